"""Apollo's automatic persisted queries (APQ) and trusted documents, kept in Redis.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": h}`
with or without the query text. Texts live in Redis under one hash tag per
document hash:

    bff:doc:{<sha256>}:trusted   registered by `bff register-documents`; no TTL
    bff:doc:{<sha256>}:apq       learned from clients under APQ; expires after `apq_ttl_s`

Both keys of one hash sit in the same Redis Cluster slot (the `{...}` hash
tag), so one MGET looks up both; keys of different hashes spread over the
cluster. An in-process LRU in front of Redis serves known hashes without a
round trip (a hash names its text forever, so a cached entry is never stale).

In trusted-documents mode only registered documents run: by hash, or by text
whose sha256 is registered. Anything else is refused with
PERSISTED_QUERY_NOT_ALLOWED, and clients cannot register documents.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor
from redis.exceptions import RedisError

from bff.graphql.errors import Code, RequestRejected, bad_request, request_error

logger = logging.getLogger("bff.graphql.persisted")

APQ_VERSION = 1
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Apollo Server 4 answers PersistedQueryNotFound with 200 and this header, so
# that a CDN never caches the miss of a hash-only GET.
_NOT_FOUND_HEADERS = {"Cache-Control": "private, no-cache, must-revalidate"}


def document_hash(text: str) -> str:
    """The APQ id of a document: lowercase hex sha256 of its exact text (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


def trusted_key(digest: str) -> str:
    return f"bff:doc:{{{digest}}}:trusted"


def apq_key(digest: str) -> str:
    return f"bff:doc:{{{digest}}}:apq"


# Standalone and Sentinel (a Redis) or Redis Cluster: every command here touches one slot.
RedisClient = aioredis.Redis | aioredis.RedisCluster


@dataclass(frozen=True, slots=True)
class ResolvedDocument:
    """The text to run; `learn` is the hash to store it under once it has validated (APQ)."""

    text: str
    learn: str | None = None


class DocumentStore:
    def __init__(
        self,
        redis: RedisClient,
        *,
        trusted_only: bool = False,
        apq_ttl_s: int = 7 * 24 * 3600,
        cache_size: int = 10_000,
    ) -> None:
        self._redis = redis
        self.trusted_only = trusted_only
        self._apq_ttl_s = apq_ttl_s
        self._local: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> ResolvedDocument:
        """The document text a request asks for, or RequestRejected saying why there is none."""
        persisted = extensions.get("persistedQuery") if extensions else None
        if persisted is None:
            if query is None:
                raise bad_request("Send the document in `query`, or its hash in extensions.persistedQuery.")
            if self.trusted_only and await self._text(document_hash(query)) is None:
                raise _not_allowed()
            return ResolvedDocument(query)
        digest = _requested_hash(persisted)
        if query is not None:
            if document_hash(query) != digest:
                raise bad_request(
                    "extensions.persistedQuery.sha256Hash is not the sha256 of `query`; hash the exact "
                    "query text (UTF-8) and send it as lowercase hex.",
                    Code.PERSISTED_QUERY_HASH_MISMATCH,
                )
            if self.trusted_only:
                if await self._text(digest) is None:
                    raise _not_allowed()
                return ResolvedDocument(query)
            return ResolvedDocument(query, None if digest in self._local else digest)
        text = await self._text(digest)
        if text is None:
            raise _not_allowed() if self.trusted_only else _not_found()
        return ResolvedDocument(text)

    async def learn(self, document: ResolvedDocument) -> None:
        """Store an APQ document that validated; a Redis failure only costs a later miss."""
        digest = document.learn
        if digest is None or self.trusted_only:
            return
        self._remember(digest, document.text)
        try:
            await self._redis.set(apq_key(digest), document.text, ex=self._apq_ttl_s)
        except RedisError as exc:
            logger.warning("could not store persisted query %s: %s", digest, exc)

    async def _text(self, digest: str) -> str | None:
        text = self._local.get(digest)
        if text is not None:
            self._local.move_to_end(digest)
            return text
        try:
            if self.trusted_only:
                found = [await self._redis.get(trusted_key(digest))]
            else:
                found = await self._redis.mget(trusted_key(digest), apq_key(digest))
        except RedisError as exc:
            if not self.trusted_only:
                # The client answers a miss by sending the full text, which still runs.
                logger.warning("persisted query lookup failed, answering as a miss: %s", exc)
                return None
            raise RequestRejected(
                [
                    request_error(
                        "The trusted document store is unavailable; try again shortly.",
                        Code.DOCUMENT_STORE_UNAVAILABLE,
                    )
                ],
                status=503,
                json_status=503,
            ) from exc
        value = next((v for v in found if v is not None), None)
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        self._remember(digest, text)
        return text

    def _remember(self, digest: str, text: str) -> None:
        self._local[digest] = text
        if len(self._local) > self._cache_size:
            self._local.popitem(last=False)


def _requested_hash(persisted: Any) -> str:
    if not isinstance(persisted, Mapping):
        raise bad_request(
            'extensions.persistedQuery must be an object: {"version": 1, "sha256Hash": "<hex>"}.'
        )
    if persisted.get("version") != APQ_VERSION:
        raise bad_request(
            f"Unsupported persisted query version {persisted.get('version')!r}; send version {APQ_VERSION}.",
            Code.PERSISTED_QUERY_NOT_SUPPORTED,
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or _SHA256_HEX.fullmatch(digest) is None:
        raise bad_request("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits (sha256).")
    return digest


def _not_found() -> RequestRejected:
    error = request_error("PersistedQueryNotFound", Code.PERSISTED_QUERY_NOT_FOUND)
    return RequestRejected([error], status=200, json_status=200, headers=_NOT_FOUND_HEADERS)


def _not_allowed() -> RequestRejected:
    error = request_error(
        "Only registered (trusted) documents run on this server; register the operation with "
        "`bff register-documents` and send its sha256 in extensions.persistedQuery.",
        Code.PERSISTED_QUERY_NOT_ALLOWED,
    )
    return RequestRejected([error])


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    name: str
    sha256: str
    body: str


@dataclass(frozen=True, slots=True)
class Registration:
    """What `register_documents` stored: every document, and how many were new."""

    documents: tuple[TrustedDocument, ...]
    added: int

    @property
    def total(self) -> int:
        return len(self.documents)


async def register_documents(redis: RedisClient, path: Path) -> Registration:
    """Register the operations in `path` (a .graphql file or an Apollo manifest) as trusted documents."""
    documents = read_documents(path)
    async with redis.pipeline(transaction=False) as pipe:
        for document in documents:
            pipe.set(trusted_key(document.sha256), document.body, nx=True)
        results = await pipe.execute()
    return Registration(tuple(documents), sum(1 for r in results if r))


def read_documents(path: Path) -> list[TrustedDocument]:
    """The trusted documents in a .json Apollo manifest or a .graphql file of named operations."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _manifest_documents(text, path)
    return _graphql_documents(text, path)


def _manifest_documents(text: str, path: Path) -> list[TrustedDocument]:
    # https://www.apollographql.com/docs/graphos/platform/security/persisted-queries
    try:
        manifest = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("version") != 1
    ):
        raise ValueError(
            f'{path} is not an Apollo manifest: expected "format": "{MANIFEST_FORMAT}", "version": 1'
        )
    documents: list[TrustedDocument] = []
    for i, entry in enumerate(manifest.get("operations") or []):
        body, name = entry.get("body"), entry.get("name") or f"operations[{i}]"
        if not isinstance(body, str):
            raise ValueError(f"{path}: {name} has no body")
        parse(body)  # a syntax error names the line; fail before storing anything
        digest = document_hash(body)
        if entry.get("id") != digest:
            raise ValueError(
                f"{path}: {name} has id {entry.get('id')!r}, but its body's sha256 is {digest}; "
                "this server looks documents up by sha256 of the body"
            )
        documents.append(TrustedDocument(name, digest, body))
    return documents


def _graphql_documents(text: str, path: Path) -> list[TrustedDocument]:
    """One document per operation: the operation then the fragments it uses, printed by graphql-core.

    Printing normalises whitespace and comments, so the ids do not change when
    the file is reformatted; a client sends the printed body (or its hash).
    """
    try:
        document = parse(text)
    except GraphQLError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    documents: list[TrustedDocument] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.name is None:
            raise ValueError(f"{path}: every operation needs a name; line {_line(definition)} has none")
        used = _fragments_used(definition, fragments)
        parts: list[DefinitionNode] = [definition, *(f for f in fragments.values() if f.name.value in used)]
        body = print_ast(DocumentNode(definitions=tuple(parts)))
        documents.append(TrustedDocument(definition.name.value, document_hash(body), body))
    return documents


def _fragments_used(node: DefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    used: set[str] = set()
    pending: list[DefinitionNode] = [node]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in collector.names - used:
            used.add(name)
            if name in fragments:
                pending.append(fragments[name])
    return used


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _line(node: DefinitionNode) -> int | str:
    return node.loc.source.get_location(node.loc.start).line if node.loc else "?"
