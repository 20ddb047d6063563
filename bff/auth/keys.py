"""The identity provider's public keys (JWKS), from a file or a URL, refreshed in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)


class KeySetUnavailable(RuntimeError):
    """No key set could be loaded; the message names the source."""


class JwksSource:
    """Holds the current key set; `refresh` reloads it (key rotation) without blocking validation."""

    def __init__(self, *, url: str | None = None, file: Path | None = None, refresh_s: float = 300.0) -> None:
        if (url is None) == (file is None):
            raise ValueError("give exactly one of a JWKS url or file")
        self._url = url
        self._file = file
        self._refresh_s = refresh_s
        self._keys: KeySet | None = None
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every load that replaced the keys (e.g. TokenValidator.forget)."""
        self._listeners.append(listener)

    def __call__(self) -> KeySet:
        if self._keys is None:
            raise KeySetUnavailable("the JWKS has not been loaded; call load() in the lifespan")
        return self._keys

    async def load(self) -> None:
        raw = await self._fetch()
        try:
            keys = KeySet.import_key_set(raw)  # type: ignore[arg-type]  # validated by joserfc
        except Exception as exc:  # joserfc raises several types for a bad key set
            raise KeySetUnavailable(f"JWKS from {self._url or self._file} is not a key set: {exc}") from exc
        changed = self._keys is not None and keys.as_dict() != self._keys.as_dict()
        self._keys = keys
        if changed:
            for listener in self._listeners:
                listener()

    async def _fetch(self) -> dict[str, object]:
        if self._file is not None:
            try:
                data: dict[str, object] = orjson.loads(self._file.read_bytes())
            except (OSError, orjson.JSONDecodeError) as exc:
                raise KeySetUnavailable(f"cannot read JWKS file {self._file}: {exc}") from exc
            return data
        assert self._url is not None
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                answer = await http.get(self._url)
                answer.raise_for_status()
                fetched: dict[str, object] = answer.json()
                return fetched
        except (httpx.HTTPError, ValueError) as exc:
            raise KeySetUnavailable(f"cannot fetch JWKS from {self._url}: {exc}") from exc

    def start_refreshing(self) -> None:
        self._task = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.load()
            except KeySetUnavailable as exc:
                # Keep the last good keys: an IdP hiccup must not log everyone out.
                log.warning("JWKS refresh failed, keeping the previous keys: %s", exc)
