"""Publish, review and release the sample mini-programs on a running BFF, as their partner and two reviewers.

Used by `bff demo` (so the simulator page has something to run) and by the
end-to-end tests. It goes through the partner API like any partner, so the
samples pass the same signature, bundle and review checks as real ones.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

import httpx

from bff.auth.dev_issuer import DevIssuer
from bff.miniprograms.signing import public_jwk, read_partner_key

SAMPLE_PARTNER: Final = "partner-demo"
SAMPLE_KEY_FILE: Final = "demo-partner-key.json"
SAMPLES: Final = {"com.parkservices.tenant": "park-services", "com.utilitybills.pay": "utility-bills"}
SAMPLE_VERSION: Final = "1.0.0"


class SamplesNotReleased(RuntimeError):
    """A step of publishing the samples was refused; the message says which and why."""


def release_samples(
    base_url: str, issuer: DevIssuer, samples_dir: Path, say: Callable[[str], None] = print
) -> list[str]:
    """Make both samples released to every customer (skipping any already released); returns their app ids."""
    partner = issuer.mint(SAMPLE_PARTNER, "*", roles=["partner"])
    reviewers = [issuer.mint(name, "*", roles=["admin"]) for name in ("reviewer-a", "reviewer-b")]
    with httpx.Client(base_url=base_url.rstrip("/") + "/partner/v1", timeout=30) as api:
        key = read_partner_key(samples_dir / SAMPLE_KEY_FILE)
        _expect(
            api.post(
                f"/partners/{SAMPLE_PARTNER}/keys",
                json={"jwk": public_jwk(key)},
                headers=_bearer(reviewers[0]),
            ),
            "register the demo partner key",
            201,
            409,
        )
        for app_id, folder in SAMPLES.items():
            released = api.get(f"/apps/{app_id}/release", headers=_bearer(partner))
            if released.status_code == 200 and released.json().get("version") == SAMPLE_VERSION:
                say(f"{app_id} {SAMPLE_VERSION} is already released")
                continue
            _publish(base_url, partner, samples_dir / folder)
            _review(api, app_id, reviewers)
            body = {"version": SAMPLE_VERSION, "percent": 100, "memberBanks": ["*"]}
            _expect(
                api.post(f"/apps/{app_id}/release", json=body, headers=_bearer(partner)),
                f"release {app_id}",
                200,
            )
            say(f"{app_id} {SAMPLE_VERSION} published, approved by two reviewers and released to everyone")
    return list(SAMPLES)


def _publish(base_url: str, partner_token: str, folder: Path) -> None:
    from bff.cli import main  # here, not at the top: the CLI imports the demo, which imports this

    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(["miniprogram", "publish", str(folder), "--api", base_url, "--token", partner_token])
    if code != 0:
        raise SamplesNotReleased(f"publishing {folder.name} failed:\n{output.getvalue()}")


def _review(api: httpx.Client, app_id: str, reviewers: Iterable[str]) -> None:
    # Both samples ask for a sensitive scope, so each needs two reviewers.
    for reviewer in reviewers:
        answer = api.post(
            f"/apps/{app_id}/versions/{SAMPLE_VERSION}/review",
            json={"approve": True, "reason": "demo sample, reviewed by the demo"},
            headers=_bearer(reviewer),
        )
        _expect(answer, f"review {app_id}", 200)


def _expect(answer: httpx.Response, what: str, *statuses: int) -> None:
    if answer.status_code not in statuses:
        raise SamplesNotReleased(f"could not {what}: {answer.status_code} {answer.text[:300]}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
