"""Sticky percentage releases: which version of a mini-program a customer gets.

Each customer falls in a fixed bucket per mini-program, computed from a
SHA-256 (never the built-in hash(), which is salted per process), so every
BFF instance and every restart agrees. A release at p basis points covers
the buckets below p: raising p only adds customers, nobody loses the new
version. Buckets are per mini-program so the same customers are not the
first to try every partner's release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Set
from dataclasses import dataclass

from bff.miniprograms.encoding import length_prefixed

BUCKETS = 10_000  # one bucket per basis point (0.01 %)
ALL_MEMBER_BANKS = "*"  # as in the manifest's memberBanks
_CONTEXT = "bankapp/miniprogram-rollout-bucket/v1"


@dataclass(frozen=True)
class Rollout:
    """A mini-program's current release: the new version, its share, and what everyone else runs."""

    app_id: str
    version: str
    basis_points: int
    previous_version: str | None
    member_banks: Set[str]

    def __post_init__(self) -> None:
        if not 0 <= self.basis_points <= BUCKETS:
            raise ValueError(f"a release covers 0 to {BUCKETS} basis points, not {self.basis_points}")


def bucket(app_id: str, customer_id: str, member_bank: str) -> int:
    """The customer's fixed bucket in [0, 10000) for this mini-program."""
    digest = hashlib.sha256(length_prefixed(_CONTEXT, app_id, member_bank, customer_id)).digest()
    # 64 bits modulo 10,000: the bias is below 1e-15, nothing a release can show.
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_release(customer_bucket: int, basis_points: int) -> bool:
    """Whether a bucket is inside a release of `basis_points` (0 reaches nobody, 10000 everybody)."""
    return customer_bucket < basis_points


def choose_version(rollout: Rollout, customer_id: str, member_bank: str) -> str | None:
    """The version this customer gets, or None when the mini-program is not offered to them."""
    if ALL_MEMBER_BANKS not in rollout.member_banks and member_bank not in rollout.member_banks:
        return None
    if in_release(bucket(rollout.app_id, customer_id, member_bank), rollout.basis_points):
        return rollout.version
    return rollout.previous_version
