"""OAuth 2.0 client credentials for the downstream services that require it.

authlib speaks the protocol (RFC 6749 section 4.4, client_secret_basic); this
module only caches the token per service and refreshes it once before expiry
or when the service answers 401.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning

from bff.channels.registry import ClientCredentials

with warnings.catch_warnings():
    # authlib flags plain httpx in favour of its "httpx2" fork; the API we use is the same.
    # Its deprecate module installs an "always" filter at import, so ours must come after it.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

# Refresh this long before expiry so an in-flight call never carries a dead token.
REFRESH_MARGIN_S = 30.0


class TokenUnavailable(Exception):
    """The authorization server did not issue a token."""


class ClientCredentialsToken:
    def __init__(
        self,
        credentials: ClientCredentials,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._timeout_s = timeout_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetches = 0

    def cached(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    async def get(self) -> str:
        token = self.cached()
        if token is not None:
            return token
        async with self._lock:  # one fetch for a burst of callers
            token = self.cached()
            if token is None:
                token = await self._fetch()
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after a 401, unless a newer one already replaced it."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> str:
        creds = self._credentials
        try:
            async with AsyncOAuth2Client(
                client_id=creds.client_id,
                client_secret=creds.client_secret,
                scope=creds.scope or None,
                token_endpoint_auth_method="client_secret_basic",
                timeout=self._timeout_s,
            ) as oauth:
                issued: dict[str, Any] = await oauth.fetch_token(
                    creds.token_url, grant_type="client_credentials"
                )
        except Exception as exc:  # authlib raises OAuthError, httpx its transport errors
            raise TokenUnavailable(f"token endpoint {creds.token_url}: {exc!r}") from exc
        self.fetches += 1
        lifetime = float(issued.get("expires_in", 300))
        self._token = str(issued["access_token"])
        self._expires_at = self._clock() + max(1.0, lifetime - REFRESH_MARGIN_S)
        return self._token
