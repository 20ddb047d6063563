"""Two production BFF processes on one Redis with both sample mini-programs published, reviewed and released."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bff.auth.dev_issuer import DevIssuer
from bff.miniprograms.demo_samples import SAMPLE_PARTNER, release_samples
from tests.support.bff_process import BffServer, start_bff
from tests.support.processes import free_port

SAMPLES = Path(__file__).resolve().parents[2] / "miniprograms"
PARTNER = SAMPLE_PARTNER
PARK = "com.parkservices.tenant"
BILLS = "com.utilitybills.pay"

Mint = Callable[..., str]


@dataclass
class MiniProgramWorld:
    first: BffServer
    second: BffServer
    partner_token: str
    admin_token: str

    def partner(self, server: BffServer, method: str, path: str, body: Any = None) -> httpx.Response:
        """A partner API call, as the samples' partner."""
        return httpx.request(
            method,
            f"{server.url}/partner/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.partner_token}"},
            timeout=15,
        )


@contextmanager
def miniprogram_world(
    directory: Path, bff_env: dict[str, str], redis_url: str, mint: Mint, issuer: DevIssuer
) -> Iterator[MiniProgramWorld]:
    """Start both processes (each may frame bundles of either), publish, approve and release the samples."""
    ports = free_port(), free_port()
    origins = [f"http://127.0.0.1:{port}" for port in ports]
    env = {
        **bff_env,
        "REDIS_URL": redis_url,
        "BFF_MINIPROGRAM_HOST_ORIGINS": json.dumps(origins),
        "BFF_MINIPROGRAM_BUNDLE_DIR": str(directory / "bundles"),
        "BFF_MINIPROGRAM_SIMULATOR": "true",
    }
    servers: list[BffServer] = []
    try:
        for name, port, origin in zip(("first", "second"), ports, origins, strict=True):
            servers.append(start_bff(directory / name, {**env, "BFF_PUBLIC_URL": origin}, port=port))
        world = MiniProgramWorld(
            servers[0],
            servers[1],
            partner_token=mint(PARTNER, member_bank="*", roles=["partner"]),
            admin_token=mint("reviewer-a", member_bank="*", roles=["admin"]),
        )
        release_samples(servers[0].url, issuer, SAMPLES, say=lambda _: None)
        yield world
    finally:
        for server in servers:
            server.stop()
