"""A small OAuth 2.0 authorization server for the simulated services.

Only the client credentials grant (RFC 6749 section 4.4): the BFF gets a
bearer token per scope and the simulated services check it.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

DEFAULT_CLIENTS = {"bff": ("bff-dev-secret", frozenset({"cards.read", "payments.write", "crm.read"}))}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


class TokenStore:
    def __init__(self, lifetime_s: float = 300.0) -> None:
        self.lifetime_s = lifetime_s
        self.clients = dict(DEFAULT_CLIENTS)
        self._tokens: dict[str, IssuedToken] = {}
        self.issued = 0

    def issue(self, client_id: str, scopes: frozenset[str]) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = IssuedToken(client_id, scopes, time.monotonic() + self.lifetime_s)
        self.issued += 1
        return token

    def allows(self, token: str, scope: str) -> bool:
        found = self._tokens.get(token)
        return found is not None and found.expires_at > time.monotonic() and scope in found.scopes

    def revoke_all(self) -> None:
        """Forget every token, as an authorization server restart would."""
        self._tokens.clear()


def _client_auth(request: web.Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        decoded = base64.b64decode(header[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def build_oauth_app(tokens: TokenStore) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials")
        client_id, secret = _client_auth(request, form)
        client = tokens.clients.get(client_id)
        if client is None or not secrets.compare_digest(client[0], secret):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        asked = frozenset(form.get("scope", "").split()) or client[1]
        if not asked <= client[1]:
            return _oauth_error(400, "invalid_scope", f"not allowed: {sorted(asked - client[1])}")
        access = tokens.issue(client_id, asked)
        return web.json_response(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": int(tokens.lifetime_s),
                "scope": " ".join(sorted(asked)),
            },
            headers={"Cache-Control": "no-store"},
        )

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    return app
