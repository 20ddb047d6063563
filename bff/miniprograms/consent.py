"""A customer's consent to each mini-program: which scopes, granted for which manifest version.

One customer's consents live under one hash tag, so they share a Redis
Cluster slot and every change is one atomic script:

    bff:consent:{<member bank>:<customer>}:app:<app id>   hash: scope -> {"version", "at"}
    bff:consent:{<member bank>:<customer>}:apps           set of app ids with a consent
    bff:consent:{<member bank>:<customer>}:audit          stream: every grant and revoke

A new version of a mini-program that asks for more scopes needs consent to
the new ones only: `missing` is what the customer is asked for.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Final

import orjson

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient, text
from bff.store.keys import part, tag

# A customer makes a handful of consent decisions a year; the cap only stops a
# runaway client. Long-term retention is the job of whatever ships the stream on.
AUDIT_MAX_LEN: Final = 1000

# KEYS: consent hash, apps set, audit stream.
# ARGV: app id, grant value (JSON), audit cap, at, app version, scope...
_GRANT: Final = """
for i = 6, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[2])
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*',
  'action', 'granted', 'app_id', ARGV[1], 'scopes', table.concat(ARGV, ' ', 6),
  'app_version', ARGV[5], 'at', ARGV[4])
return redis.call('HGETALL', KEYS[1])
"""

# KEYS: consent hash, apps set, audit stream.
# ARGV: app id, audit cap, at, "all" or "some", scope... ; returns the scopes removed.
_REVOKE: Final = """
local removed = {}
if ARGV[4] == 'all' then
  removed = redis.call('HKEYS', KEYS[1])
  redis.call('DEL', KEYS[1])
else
  for i = 5, #ARGV do
    if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then removed[#removed + 1] = ARGV[i] end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
end
table.sort(removed)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*',
  'action', 'revoked', 'app_id', ARGV[1], 'scopes', table.concat(removed, ' '), 'at', ARGV[3])
return removed
"""


class ConsentErrorCode(enum.StrEnum):
    CONSENT_SCOPES_EMPTY = "CONSENT_SCOPES_EMPTY"
    CONSENT_SCOPE_NOT_REQUESTED = "CONSENT_SCOPE_NOT_REQUESTED"


class ConsentError(Exception):
    """A consent change was refused; `code` is machine-readable, `message` says what to do."""

    def __init__(self, code: ConsentErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ScopeGrant:
    """One scope the customer granted, and the manifest version they were shown when they did."""

    scope: str
    app_version: str
    granted_at: float


@dataclass(frozen=True, slots=True)
class Consent:
    """What a customer has granted one mini-program; `grants` sorted by scope, never empty."""

    app_id: str
    grants: tuple[ScopeGrant, ...]

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(grant.scope for grant in self.grants)

    @property
    def latest(self) -> ScopeGrant:
        """The most recent grant: its version is the last one the customer consented to."""
        return max(self.grants, key=lambda grant: grant.granted_at)


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One entry of the customer's consent audit trail; `app_version` is None for a revoke."""

    event_id: str
    action: str  # "granted" or "revoked"
    app_id: str
    scopes: tuple[str, ...]
    app_version: str | None
    at: float


def consent_key(customer: CustomerScope, app_id: str) -> str:
    return f"bff:consent:{_customer_tag(customer)}:app:{part(app_id)}"


def apps_key(customer: CustomerScope) -> str:
    return f"bff:consent:{_customer_tag(customer)}:apps"


def audit_key(customer: CustomerScope) -> str:
    return f"bff:consent:{_customer_tag(customer)}:audit"


class ConsentStore:
    def __init__(
        self, redis: RedisClient, clock: Callable[[], float] = time.time, audit_max_len: int = AUDIT_MAX_LEN
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._audit_max_len = audit_max_len
        self._grant = redis.register_script(_GRANT)
        self._revoke = redis.register_script(_REVOKE)

    async def grant(
        self,
        customer: CustomerScope,
        app_id: str,
        scopes: Iterable[str],
        *,
        app_version: str,
        requested: Set[str],
    ) -> Consent:
        """Record consent to `scopes`, which must all be `requested` by manifest `app_version`."""
        wanted = sorted(set(scopes))
        if not wanted:
            raise ConsentError(ConsentErrorCode.CONSENT_SCOPES_EMPTY, "name at least one scope to grant")
        unrequested = [scope for scope in wanted if scope not in requested]
        if unrequested:
            asked = ", ".join(sorted(requested)) or "no scopes"
            raise ConsentError(
                ConsentErrorCode.CONSENT_SCOPE_NOT_REQUESTED,
                f"{', '.join(unrequested)} not requested by {app_id} {app_version}, "
                f"which asks for {asked}; only those can be granted",
            )
        at = self._clock()
        value = orjson.dumps({"version": app_version, "at": at}).decode()
        keys = [consent_key(customer, app_id), apps_key(customer), audit_key(customer)]
        args: list[str | int] = [app_id, value, self._audit_max_len, repr(at), app_version, *wanted]
        fields = await self._grant(keys=keys, args=args)
        return _consent(app_id, _pairs(fields))

    async def revoke(
        self, customer: CustomerScope, app_id: str, scopes: Iterable[str] | None = None
    ) -> frozenset[str]:
        """Withdraw consent to `scopes` (None: all of them); returns the scopes actually withdrawn."""
        which = ["all"] if scopes is None else ["some", *sorted(set(scopes))]
        keys = [consent_key(customer, app_id), apps_key(customer), audit_key(customer)]
        args: list[str | int] = [app_id, self._audit_max_len, repr(self._clock()), *which]
        removed = await self._revoke(keys=keys, args=args)
        return frozenset(text(scope) for scope in removed)

    async def granted(self, customer: CustomerScope, app_id: str) -> frozenset[str]:
        """The scopes the customer has granted this mini-program (empty when none)."""
        fields = await self._redis.hkeys(consent_key(customer, app_id))
        return frozenset(text(field) for field in fields)

    async def missing(self, customer: CustomerScope, app_id: str, requested: Iterable[str]) -> frozenset[str]:
        """The requested scopes not yet granted: what the customer must be asked for before launch."""
        return frozenset(requested) - await self.granted(customer, app_id)

    async def consent(self, customer: CustomerScope, app_id: str) -> Consent | None:
        """The customer's consent to one mini-program, or None when nothing is granted."""
        fields = await self._redis.hgetall(consent_key(customer, app_id))
        return _consent(app_id, fields) if fields else None

    async def list(self, customer: CustomerScope) -> tuple[Consent, ...]:
        """Every mini-program the customer has granted something, by app id: the consent screen."""
        app_ids = sorted(text(app_id) for app_id in await self._redis.smembers(apps_key(customer)))
        async with self._redis.pipeline(transaction=False) as pipe:
            for app_id in app_ids:
                pipe.hgetall(consent_key(customer, app_id))
            found = await pipe.execute()
        # An app whose last scope was revoked between the two reads has an empty hash.
        return tuple(
            _consent(app_id, fields) for app_id, fields in zip(app_ids, found, strict=True) if fields
        )

    async def history(self, customer: CustomerScope, limit: int = 50) -> tuple[ConsentEvent, ...]:
        """The customer's consent changes, newest first."""
        entries = await self._redis.xrevrange(audit_key(customer), count=limit) or []
        return tuple(_event(text(entry_id), fields) for entry_id, fields in entries if entry_id and fields)


def _customer_tag(customer: CustomerScope) -> str:
    return tag(customer.member_bank, customer.customer_id)


def _pairs(flat: list[bytes | str]) -> dict[bytes | str, bytes | str]:
    """HGETALL's reply as returned by a script: a flat list of field, value, field, value..."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _consent(app_id: str, fields: dict[bytes | str, bytes | str]) -> Consent:
    grants = []
    for scope, raw in fields.items():
        value = orjson.loads(raw)
        grants.append(ScopeGrant(text(scope), str(value["version"]), float(value["at"])))
    return Consent(app_id, tuple(sorted(grants, key=lambda grant: grant.scope)))


def _event(event_id: str, raw: dict[bytes | str, bytes | str]) -> ConsentEvent:
    fields = {text(key): text(value) for key, value in raw.items()}
    return ConsentEvent(
        event_id=event_id,
        action=fields["action"],
        app_id=fields["app_id"],
        scopes=tuple(fields["scopes"].split()),
        app_version=fields.get("app_version"),
        at=float(fields["at"]),
    )
