"""Bridge tokens: short-lived access tokens for one mini-program, obtained by token exchange.

As in RFC 8693, the customer's validated access token (their `Principal`) is
the subject token, and the result is a JWT access token (RFC 9068 profile,
`typ: at+jwt`, ES256) for one mini-program. What the partner can read in it:

    iss, aud (the app id, exactly one), client_id (the app id), sub (the
    pairwise subject: stable per customer, member bank and partner, different
    across partners), scope (the consented scopes only), member_bank, jti,
    iat, nbf, exp (at most the subject token's)

Never the customer id. The host maps a token back to its customer through a
record in Redis named by the token's subject and jti, which expires with the
token; deleting it revokes the token:

    bff:bridge:{<sub>}:jti:<jti>      hash: customer_id, member_bank, app_id, partner_id
    bff:bridge:{<sub>}:live:<app id>  sorted set: this customer's live jtis at this app, by exp
    bff:bridge:app:{<app id>}:live    sorted set: "<member bank> <sub> <jti>" per live token, by exp

Slots. The record and the customer's live set share the subject's hash tag
(the subject is in the token, so `verify` finds the record without knowing
the customer), so storing a token and revoking a customer's tokens at an app
are each one atomic script. An app's live set spans all its customers, so it
has its own slot (one key per app: issuing for a popular app writes one hot
key; shard it by a bucket in the tag if that ever shows). Because the app set
and the records are in different slots, a revocation sweeping the app set can
interleave with an issue; `issue` therefore confirms, after storing its
record, that its entry is still in the app set and the consent still covers
its scopes, and deletes the record otherwise. A sweep removes entries before
deleting their records, so that confirmation cannot miss it.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Any, Final

import orjson
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from bff.auth.principal import Principal
from bff.channels.models import CustomerScope
from bff.miniprograms.bridge_errors import BridgeAuthError, BridgeErrorCode
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.pairwise import pairwise_subject
from bff.store.client import RedisClient, text
from bff.store.keys import part, tag

ALGORITHM: Final = "ES256"
TOKEN_TYPE: Final = "at+jwt"  # RFC 9068 section 2.1
DEFAULT_TTL_S: Final = 300
LEEWAY_S: Final = 5
_SWEEP_BATCH: Final = 500

# KEYS: an app's live set. ARGV: member, exp, prune below this exp, ttl ms.
_INDEX_FOR_APP: Final = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
"""

# KEYS: token record, the customer's live set at the app.
# ARGV: jti, exp, prune below this exp, ttl ms, then the record's field/value pairs.
_STORE: Final = """
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
"""

# KEYS: the customer's live set at the app. ARGV: the record key prefix (same hash tag,
# so every record built here is in KEYS[1]'s slot). Returns how many live records it deleted.
_REVOKE_CUSTOMER_APP: Final = """
local deleted = 0
for _, jti in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  deleted = deleted + redis.call('DEL', ARGV[1] .. jti)
end
redis.call('DEL', KEYS[1])
return deleted
"""


@dataclass(frozen=True, slots=True)
class IssuedBridgeToken:
    """A bridge token, its expiry (epoch seconds) and the pairwise subject it names."""

    token: str
    expires_at: int
    subject: str
    jti: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class BridgeSession:
    """A verified bridge token: which mini-program acts for which customer, with which scopes."""

    app_id: str
    partner_id: str
    partner_subject: str
    customer: CustomerScope
    scopes: frozenset[str]
    jti: str
    expires_at: int


def token_key(subject: str, jti: str) -> str:
    return _token_key_prefix(subject) + part(jti)


def _token_key_prefix(subject: str) -> str:
    return f"bff:bridge:{tag(subject)}:jti:"


def customer_live_key(subject: str, app_id: str) -> str:
    return f"bff:bridge:{tag(subject)}:live:{part(app_id)}"


def app_live_key(app_id: str) -> str:
    return f"bff:bridge:app:{tag(app_id)}:live"


class BridgeTokenIssuer:
    def __init__(
        self,
        redis: RedisClient,
        consents: ConsentStore,
        signing_key: ECKey,
        issuer: str,
        *,
        pairwise_secret: bytes,
        ttl_s: int = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signing_key.curve_name != "P-256" or not signing_key.is_private or not signing_key.kid:
            raise ValueError("the bridge signing key must be a private P-256 (ES256) key with a kid")
        self._redis = redis
        self._consents = consents
        self._key = signing_key
        self._issuer = issuer
        self._secret = pairwise_secret
        self._ttl_s = ttl_s
        self._clock = clock
        self._index_for_app = redis.register_script(_INDEX_FOR_APP)
        self._store = redis.register_script(_STORE)
        self._revoke_customer_app = redis.register_script(_REVOKE_CUSTOMER_APP)

    def public_keys(self) -> KeySet:
        """The verification key, for a `BridgeTokenVerifier` and a JWKS document."""
        return KeySet([ECKey.import_key(self._key.as_dict(private=False))])

    def subject(self, customer: CustomerScope, partner_id: str) -> str:
        """The pairwise subject a partner's tokens name for this customer."""
        return pairwise_subject(self._secret, customer.customer_id, customer.member_bank, partner_id)

    async def issue(
        self, principal: Principal, app_id: str, partner_id: str, consented_scopes: Iterable[str]
    ) -> IssuedBridgeToken:
        """Exchange a customer's principal for a token for `app_id` carrying `consented_scopes` only.

        Every scope must be granted in the consent store (checked after the token is stored, so a
        concurrent revocation is seen); pass the granted scopes the launched version requests.
        """
        now = self._clock()
        customer = _customer(principal, now)
        scopes = frozenset(consented_scopes)
        subject = self.subject(customer, partner_id)
        # 128 random bits in unreserved characters, so the jti is its own key part (see _REVOKE_CUSTOMER_APP).
        jti = secrets.token_urlsafe(16)
        expires_at = min(int(now) + self._ttl_s, int(principal.expires_at))
        await self._remember(customer, app_id, partner_id, subject, jti, expires_at, now)
        await self._confirm(customer, app_id, subject, jti, scopes)
        claims = {
            "iss": self._issuer,
            "aud": app_id,
            "client_id": app_id,
            "sub": subject,
            "scope": " ".join(sorted(scopes)),
            "member_bank": customer.member_bank,
            "jti": jti,
            "iat": int(now),
            "nbf": int(now),
            "exp": expires_at,
        }
        header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": self._key.kid}
        return IssuedBridgeToken(jwt.encode(header, claims, self._key), expires_at, subject, jti, scopes)

    async def revoke_for(self, customer: CustomerScope, app_id: str, partner_id: str) -> int:
        """Kill the customer's live tokens for `app_id`; returns how many. Revoke the consent first."""
        subject = self.subject(customer, partner_id)
        deleted = await self._revoke_customer_app(
            keys=[customer_live_key(subject, app_id)], args=[_token_key_prefix(subject)]
        )
        return int(deleted)

    async def revoke_app(self, app_id: str, member_banks: Set[str] | None = None) -> int:
        """Kill every live token of `app_id` (only those of `member_banks` if given); returns how many."""
        key = app_live_key(app_id)
        banks = None if member_banks is None else {part(bank) for bank in member_banks}
        deleted, cursor = 0, 0
        while True:
            cursor, entries = await self._redis.zscan(key, cursor, count=_SWEEP_BATCH)
            members = [text(member) for member, _ in entries if isinstance(member, bytes | str)]
            chosen = [m for m in members if banks is None or m.split(" ", 1)[0] in banks]
            if chosen:
                # Entries first, records second: an issue that stored its record after we read
                # the set then finds its entry gone and deletes its own record.
                await self._redis.zrem(key, *chosen)
                deleted += await self._redis.delete(*(_record_of(member) for member in chosen))
            if cursor == 0:
                return deleted

    async def _remember(
        self,
        customer: CustomerScope,
        app_id: str,
        partner_id: str,
        subject: str,
        jti: str,
        expires_at: int,
        now: float,
    ) -> None:
        # The record outlives exp by the verifier's leeway; entries older than that are pruned.
        ttl_ms = max(1, expires_at + LEEWAY_S - int(now)) * 1000
        prune_below = int(now) - LEEWAY_S
        member = _app_member(customer.member_bank, subject, jti)
        await self._index_for_app(keys=[app_live_key(app_id)], args=[member, expires_at, prune_below, ttl_ms])
        record = ["customer_id", customer.customer_id, "member_bank", customer.member_bank]
        record += ["app_id", app_id, "partner_id", partner_id]
        await self._store(
            keys=[token_key(subject, jti), customer_live_key(subject, app_id)],
            args=[jti, expires_at, prune_below, ttl_ms, *record],
        )

    async def _confirm(
        self, customer: CustomerScope, app_id: str, subject: str, jti: str, scopes: frozenset[str]
    ) -> None:
        swept = await self._redis.zscore(
            app_live_key(app_id), _app_member(customer.member_bank, subject, jti)
        )
        not_granted = scopes - await self._consents.granted(customer, app_id)
        if swept is not None and not not_granted:
            return
        await self._redis.delete(token_key(subject, jti))
        await self._redis.zrem(customer_live_key(subject, app_id), jti)
        if not_granted:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_CONSENT_MISSING,
                f"the customer has not granted {', '.join(sorted(not_granted))} to {app_id}; "
                "ask for consent before launching",
            )
        raise BridgeAuthError(
            BridgeErrorCode.BRIDGE_TOKEN_REVOKED,
            f"the tokens of {app_id} were revoked while this one was issued; the mini-program is stopped",
        )


class BridgeTokenVerifier:
    def __init__(
        self,
        redis: RedisClient,
        public_keys: KeySet,
        issuer: str,
        *,
        leeway_s: int = LEEWAY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._keys = public_keys
        self._issuer = issuer
        self._leeway_s = leeway_s
        self._clock = clock

    async def verify(self, token: str | None, expected_app_id: str) -> BridgeSession:
        """The session of a valid, live token for `expected_app_id`, or BridgeAuthError saying why not."""
        if not token:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_MISSING,
                "send the bridge token as `Authorization: Bearer <token>`",
            )
        claims = self._verified_claims(token)
        self._check_claims(claims, expected_app_id)
        subject, jti = claims["sub"], claims["jti"]
        record = {text(k): text(v) for k, v in (await self._redis.hgetall(token_key(subject, jti))).items()}
        if record.get("app_id") != expected_app_id:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_REVOKED,
                "the bridge token was revoked (consent withdrawn or mini-program stopped); relaunch it",
            )
        return BridgeSession(
            app_id=expected_app_id,
            partner_id=record["partner_id"],
            partner_subject=subject,
            customer=CustomerScope(record["customer_id"], record["member_bank"]),
            scopes=frozenset(claims["scope"].split()),
            jti=jti,
            expires_at=int(claims["exp"]),
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_SIGNATURE_INVALID,
                f"bridge tokens are signed with {ALGORITHM} only, not {header.get('alg')!r}",
            )
        if header.get("typ") != TOKEN_TYPE:
            raise _malformed(f"the token's typ must be {TOKEN_TYPE!r}")
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[ALGORITHM])
        except (jose_errors.BadSignatureError, jose_errors.InvalidKeyIdError, ValueError) as exc:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_SIGNATURE_INVALID,
                "the bridge token's signature does not match any key of the host",
            ) from exc
        except jose_errors.JoseError as exc:
            raise _malformed(f"the token cannot be read: {exc.description}") from exc
        return dict(decoded.claims)

    def _check_claims(self, claims: dict[str, Any], expected_app_id: str) -> None:
        for name in ("sub", "jti", "scope", "iss"):
            if not isinstance(claims.get(name), str) or (name != "scope" and not claims[name]):
                raise _malformed(f"the token's {name!r} claim must be a non-empty string")
        for name in ("exp", "nbf"):
            if not isinstance(claims.get(name), int | float) or isinstance(claims[name], bool):
                raise _malformed(f"the token's {name!r} claim must be a number")
        if claims["iss"] != self._issuer:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_WRONG_ISSUER, f"bridge tokens are issued by {self._issuer!r}"
            )
        now = self._clock()
        if now > claims["exp"] + self._leeway_s:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_EXPIRED,
                "the bridge token has expired; ask the host for a new one",
            )
        if now + self._leeway_s < claims["nbf"]:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_NOT_YET_VALID, "the bridge token is not valid yet"
            )
        # Exactly one audience: a token naming several apps would work at each of them.
        if claims.get("aud") != expected_app_id:
            raise BridgeAuthError(
                BridgeErrorCode.BRIDGE_TOKEN_WRONG_AUDIENCE,
                f"this bridge token is not for {expected_app_id}; each mini-program gets its own token",
            )


def _customer(principal: Principal, now: float) -> CustomerScope:
    customer = principal.customer_scope
    if customer is None:
        raise BridgeAuthError(
            BridgeErrorCode.BRIDGE_SUBJECT_NOT_CUSTOMER,
            "only a customer's token can be exchanged for a bridge token",
        )
    if principal.expires_at <= now:
        raise BridgeAuthError(
            BridgeErrorCode.BRIDGE_SUBJECT_TOKEN_EXPIRED,
            "the customer's access token has expired; sign in again",
        )
    return customer


def _app_member(member_bank: str, subject: str, jti: str) -> str:
    return f"{part(member_bank)} {subject} {jti}"


def _record_of(member: str) -> str:
    _, subject, jti = member.split(" ")
    return token_key(subject, jti)


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise _malformed("the bridge token is not a compact JWS (header.payload.signature)")
    try:
        header = orjson.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError as exc:  # binascii.Error and orjson.JSONDecodeError are ValueErrors
        raise _malformed("the bridge token's header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise _malformed("the bridge token's header is not a JSON object")
    return header


def _malformed(message: str) -> BridgeAuthError:
    return BridgeAuthError(BridgeErrorCode.BRIDGE_TOKEN_MALFORMED, message)
