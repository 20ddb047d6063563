"""Drive the simulators' control API (faults and counters) from tests."""

from __future__ import annotations

from typing import Any

import httpx


class SimControl:
    def __init__(self, control_url: str) -> None:
        self._http = httpx.Client(base_url=control_url, timeout=5)

    def set_faults(self, service: str, dc: str, **faults: Any) -> None:
        response = self._http.put(f"/faults/{service}/{dc}", json=faults)
        response.raise_for_status()

    def clear_faults(self) -> None:
        self._http.delete("/faults").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self._http.get("/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def requests(self, service: str, dc: str) -> int:
        return int(self.stats()[f"{service}/{dc}"]["requests"])

    def reset_stats(self) -> None:
        self._http.delete("/stats").raise_for_status()

    def revoke_tokens(self) -> None:
        self._http.post("/oauth/revoke-all").raise_for_status()

    def close(self) -> None:
        self._http.close()
