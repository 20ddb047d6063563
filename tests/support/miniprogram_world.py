"""Two production BFF processes on one Redis with both sample mini-programs published, reviewed and released."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bff.cli import main as bff_cli
from bff.miniprograms.signing import public_jwk, read_partner_key
from tests.support.bff_process import BffServer, start_bff
from tests.support.processes import free_port

SAMPLES = Path(__file__).resolve().parents[2] / "miniprograms"
DEMO_KEY = SAMPLES / "demo-partner-key.json"
PARTNER = "partner-demo"
PARK = "com.parkservices.tenant"
BILLS = "com.utilitybills.pay"
SAMPLE_APPS = {PARK: "park-services", BILLS: "utility-bills"}

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
    directory: Path, bff_env: dict[str, str], redis_url: str, mint: Mint
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
        _publish_samples(world, mint)
        yield world
    finally:
        for server in servers:
            server.stop()


def _publish_samples(world: MiniProgramWorld, mint: Mint) -> None:
    url = world.first.url
    registered = httpx.post(
        f"{url}/partner/v1/partners/{PARTNER}/keys",
        json={"jwk": public_jwk(read_partner_key(DEMO_KEY))},
        headers={"Authorization": f"Bearer {world.admin_token}"},
    )
    assert registered.status_code in (200, 201), registered.text
    # Both samples ask for a sensitive scope, so each needs two reviewers.
    reviewers = [world.admin_token, mint("reviewer-b", member_bank="*", roles=["admin"])]
    for app_id, folder in SAMPLE_APPS.items():
        code = bff_cli(
            ["miniprogram", "publish", str(SAMPLES / folder), "--api", url, "--token", world.partner_token]
        )
        assert code == 0, f"publishing {folder} failed"
        for reviewer in reviewers:
            review = httpx.post(
                f"{url}/partner/v1/apps/{app_id}/versions/1.0.0/review",
                json={"approve": True, "reason": "end-to-end test review"},
                headers={"Authorization": f"Bearer {reviewer}"},
            )
            assert review.status_code == 200, review.text
        release = world.partner(
            world.first,
            "POST",
            f"/apps/{app_id}/release",
            {"version": "1.0.0", "percent": 100, "memberBanks": ["*"]},
        )
        assert release.status_code == 200, release.text
