"""The lifecycle rules of mini-program versions and releases, as pure functions.

A version moves draft -> submitted -> approved | rejected. Approved and
rejected are final: versions are immutable, so a fix is a new version.

A release is per app: one version offered to `percent_bp` basis points of the
customers of `member_banks`, while everyone else keeps `previous_version`.
It can be halted (everyone falls back to `previous_version`), suspended for
some or all member banks (the kill switch), resumed and rolled back.

These functions decide and explain (`RegistryError` with a machine code when
a rule refuses); `registry.py` stores what they decide, atomically.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from bff.miniprograms.manifest import ALL_MEMBER_BANKS, AllMemberBanks, PermissionDiff, compare_versions
from bff.miniprograms.rollout import BUCKETS, Rollout, choose_version

# A set of member bank codes, or every member bank.
MemberBanks = frozenset[str] | Literal[AllMemberBanks.ALL]


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


NEXT_STATES: Final[Mapping[ReviewState, tuple[ReviewState, ...]]] = {
    ReviewState.DRAFT: (ReviewState.SUBMITTED,),
    ReviewState.SUBMITTED: (ReviewState.APPROVED, ReviewState.REJECTED),
    ReviewState.APPROVED: (),
    ReviewState.REJECTED: (),
}


class ErrorCode(enum.StrEnum):
    INVALID_APP_ID = "INVALID_APP_ID"
    APP_EXISTS = "APP_EXISTS"
    APP_NOT_FOUND = "APP_NOT_FOUND"
    NOT_APP_OWNER = "NOT_APP_OWNER"
    MANIFEST_MISMATCH = "MANIFEST_MISMATCH"
    VERSION_EXISTS = "VERSION_EXISTS"
    VERSION_NOT_GREATER = "VERSION_NOT_GREATER"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    REASON_REQUIRED = "REASON_REQUIRED"
    SECOND_REVIEWER_REQUIRED = "SECOND_REVIEWER_REQUIRED"
    NOT_APPROVED = "NOT_APPROVED"
    NOT_RELEASED = "NOT_RELEASED"
    PERCENT_OUT_OF_RANGE = "PERCENT_OUT_OF_RANGE"
    MEMBER_BANKS_EMPTY = "MEMBER_BANKS_EMPTY"
    MEMBER_BANK_NOT_SERVED = "MEMBER_BANK_NOT_SERVED"
    ROLLBACK_NOT_EARLIER = "ROLLBACK_NOT_EARLIER"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"


class RegistryError(Exception):
    """A registry rule refused a request; `code` is machine-readable, `message` says what to do."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuditAction(enum.StrEnum):
    APP_CREATED = "app.created"
    VERSION_ADDED = "version.added"
    VERSION_SUBMITTED = "version.submitted"
    VERSION_APPROVAL_RECORDED = "version.approval_recorded"  # first of two required approvals
    VERSION_APPROVED = "version.approved"
    VERSION_REJECTED = "version.rejected"
    RELEASE_STARTED = "release.started"
    RELEASE_CHANGED = "release.changed"
    RELEASE_HALTED = "release.halted"
    RELEASE_SUSPENDED = "release.suspended"
    RELEASE_RESUMED = "release.resumed"
    RELEASE_ROLLED_BACK = "release.rolled_back"


# --- review -----------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """One reviewer's decision, with the permission diff they saw."""

    reviewer: str
    approve: bool
    reason: str | None
    at: float
    permission_diff: PermissionDiff
    diff_base: str | None  # the released version the diff is against; None before any release


def require_transition(version: str, current: ReviewState, target: ReviewState) -> None:
    """Refuse with INVALID_TRANSITION, naming the allowed next states, unless current -> target is a step."""
    allowed = NEXT_STATES[current]
    if target in allowed:
        return
    following = ", ".join(allowed) if allowed else f"none ({current} is final; add a new version instead)"
    raise RegistryError(
        ErrorCode.INVALID_TRANSITION,
        f"version {version} is {current} and cannot become {target}; allowed next states: {following}",
    )


def approvers(reviews: Sequence[Review]) -> tuple[str, ...]:
    """The distinct reviewers who approved, in the order they did."""
    return tuple(dict.fromkeys(review.reviewer for review in reviews if review.approve))


def decide_review(
    version: str, state: ReviewState, reviews: Sequence[Review], review: Review
) -> tuple[ReviewState, AuditAction]:
    """The version's state after `review`, and how to audit it.

    A version whose permission diff adds a sensitive scope needs approvals
    from two distinct reviewers; the first approval leaves it submitted.
    """
    target = ReviewState.APPROVED if review.approve else ReviewState.REJECTED
    require_transition(version, state, target)
    if not review.approve:
        if not review.reason:
            raise RegistryError(ErrorCode.REASON_REQUIRED, "say why the version is rejected")
        return ReviewState.REJECTED, AuditAction.VERSION_REJECTED
    needed = 2 if review.permission_diff.needs_second_review else 1
    earlier = approvers(reviews)
    if needed > 1 and review.reviewer in earlier:
        added = ", ".join(review.permission_diff.added_scopes)
        raise RegistryError(
            ErrorCode.SECOND_REVIEWER_REQUIRED,
            f"{review.reviewer} already approved version {version}; it adds sensitive scopes ({added}), "
            "so a second, different reviewer must approve it",
        )
    if len({*earlier, review.reviewer}) >= needed:
        return ReviewState.APPROVED, AuditAction.VERSION_APPROVED
    return ReviewState.SUBMITTED, AuditAction.VERSION_APPROVAL_RECORDED


# --- release ----------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """An app's release. `generation` is the app's change counter when this was read or written."""

    app_id: str
    version: str
    percent_bp: int
    member_banks: MemberBanks
    previous_version: str | None
    halted: bool = False
    halt_reason: str | None = None
    suspended: MemberBanks = frozenset()
    generation: int = 0

    @property
    def fully_released(self) -> str | None:
        """The version every customer of the release's member banks has now (None: none yet)."""
        if self.percent_bp == BUCKETS and not self.halted:
            return self.version
        return self.previous_version

    def is_suspended(self, member_bank: str) -> bool:
        return self.suspended is ALL_MEMBER_BANKS or member_bank in self.suspended

    def rollout(self) -> Rollout:
        """The sticky percentage rollout this release amounts to (a halted one reaches nobody)."""
        banks = {ALL_MEMBER_BANKS.value} if self.member_banks is ALL_MEMBER_BANKS else set(self.member_banks)
        return Rollout(
            app_id=self.app_id,
            version=self.version,
            basis_points=0 if self.halted else self.percent_bp,
            previous_version=self.previous_version,
            member_banks=frozenset(banks),
        )

    def version_for(self, customer_id: str, member_bank: str) -> str | None:
        """The version this customer gets, or None (suspended for their member bank, or not offered)."""
        if self.is_suspended(member_bank):
            return None
        return choose_version(self.rollout(), customer_id, member_bank)

    def summary(self) -> dict[str, str]:
        """A flat description for the audit log's before/after."""
        return {
            "version": self.version,
            "percent": percent_text(self.percent_bp),
            "member_banks": banks_text(self.member_banks),
            "previous_version": self.previous_version or "",
            "halted": f"yes: {self.halt_reason}" if self.halted else "no",
            "suspended": banks_text(self.suspended),
        }


@dataclass(frozen=True)
class ReleaseChange:
    """A decided release change: the new release, its audit action and a note for people."""

    release: Release
    action: AuditAction
    note: str


def percent_text(basis_points: int) -> str:
    return f"{basis_points / 100:.2f} %"


def banks_text(banks: MemberBanks) -> str:
    return ALL_MEMBER_BANKS.value if banks is ALL_MEMBER_BANKS else ",".join(sorted(banks))


def require_percent(percent_bp: int) -> None:
    if isinstance(percent_bp, bool) or not isinstance(percent_bp, int) or not 0 <= percent_bp <= BUCKETS:
        raise RegistryError(
            ErrorCode.PERCENT_OUT_OF_RANGE,
            f"a release covers 0 to {BUCKETS} basis points (0.01 % each), not {percent_bp!r}",
        )


def require_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise RegistryError(ErrorCode.REASON_REQUIRED, f"say why the release is {what}")
    return text


def require_release(current: Release | None, app_id: str) -> Release:
    if current is None:
        raise RegistryError(ErrorCode.NOT_RELEASED, f"{app_id} has no release yet; release a version first")
    return current


def plan_release(
    current: Release | None, app_id: str, version: str, percent_bp: int, member_banks: MemberBanks
) -> ReleaseChange:
    """Start releasing a new version, or move the percentage of the one being released."""
    require_percent(percent_bp)
    if member_banks is not ALL_MEMBER_BANKS and not member_banks:
        raise RegistryError(ErrorCode.MEMBER_BANKS_EMPTY, "release to at least one member bank, or to all")
    if current is None:
        release = Release(app_id, version, percent_bp, member_banks, previous_version=None)
        return ReleaseChange(release, AuditAction.RELEASE_STARTED, f"{version} to {percent_text(percent_bp)}")
    if current.version == version:
        return _change_percent(current, percent_bp, member_banks)
    if compare_versions(version, current.version) <= 0:
        raise RegistryError(
            ErrorCode.VERSION_NOT_GREATER,
            f"{version} is not newer than the released {current.version}; use rollback to go back",
        )
    previous = current.fully_released
    release = Release(
        app_id, version, percent_bp, member_banks, previous_version=previous, suspended=current.suspended
    )
    note = f"{version} to {percent_text(percent_bp)}; everyone else keeps {previous or 'nothing'}"
    return ReleaseChange(release, AuditAction.RELEASE_STARTED, note)


def _change_percent(current: Release, percent_bp: int, member_banks: MemberBanks) -> ReleaseChange:
    before, after = percent_text(current.percent_bp), percent_text(percent_bp)
    if percent_bp > current.percent_bp:
        note = f"percentage raised from {before} to {after}"
    elif percent_bp < current.percent_bp:
        note = (
            f"percentage LOWERED from {before} to {after}: customers in between go back to "
            f"{current.previous_version or 'nothing'}"
        )
    else:
        note = f"percentage unchanged at {after}"
    if current.halted:
        note += f"; release continued after the halt ({current.halt_reason})"
    release = replace(
        current, percent_bp=percent_bp, member_banks=member_banks, halted=False, halt_reason=None
    )
    return ReleaseChange(release, AuditAction.RELEASE_CHANGED, note)


def plan_halt(current: Release | None, app_id: str, reason: str | None) -> ReleaseChange:
    """Stop a release: every customer falls back to the previous version."""
    release = require_release(current, app_id)
    text = require_reason(reason, "halted")
    if release.halted:
        raise RegistryError(
            ErrorCode.INVALID_TRANSITION,
            f"the release of {release.version} is already halted ({release.halt_reason}); "
            "allowed next steps: release (continue it) or rollback",
        )
    fallback = release.previous_version or "nothing (no earlier release)"
    note = f"{text}; customers fall back to {fallback}"
    return ReleaseChange(replace(release, halted=True, halt_reason=text), AuditAction.RELEASE_HALTED, note)


def plan_suspend(
    current: Release | None, app_id: str, member_bank: str | None, reason: str | None
) -> ReleaseChange | None:
    """Suspend the app for one member bank, or for all (kill switch); None if already so."""
    release = require_release(current, app_id)
    text = require_reason(reason, "suspended")
    if release.suspended is ALL_MEMBER_BANKS or member_bank in release.suspended:
        return None  # pressing the kill switch twice is not an error
    if member_bank is None:
        suspended: MemberBanks = ALL_MEMBER_BANKS
        note = f"kill switch: suspended for every member bank: {text}"
    else:
        suspended = release.suspended | {member_bank}
        note = f"suspended for {member_bank}: {text}"
    return ReleaseChange(replace(release, suspended=suspended), AuditAction.RELEASE_SUSPENDED, note)


def plan_resume(current: Release | None, app_id: str, member_bank: str | None) -> ReleaseChange | None:
    """Lift the suspension for one member bank, or every suspension; None if nothing to lift."""
    release = require_release(current, app_id)
    if member_bank is None:
        if release.suspended is not ALL_MEMBER_BANKS and not release.suspended:
            return None
        note = f"resumed for every member bank (was suspended for {banks_text(release.suspended)})"
        return ReleaseChange(replace(release, suspended=frozenset()), AuditAction.RELEASE_RESUMED, note)
    if release.suspended is ALL_MEMBER_BANKS:
        raise RegistryError(
            ErrorCode.INVALID_TRANSITION,
            f"every member bank is suspended (kill switch), so {member_bank} cannot be resumed alone; "
            "resume all, then suspend the member banks that should stay off",
        )
    if member_bank not in release.suspended:
        return None
    suspended = release.suspended - {member_bank}
    note = f"resumed for {member_bank}"
    return ReleaseChange(replace(release, suspended=suspended), AuditAction.RELEASE_RESUMED, note)


def plan_rollback(current: Release | None, app_id: str, to_version: str) -> ReleaseChange:
    """Go back to an earlier version for everyone (100 %), also in the middle of a percentage release."""
    release = require_release(current, app_id)
    if compare_versions(to_version, release.version) >= 0:
        raise RegistryError(
            ErrorCode.ROLLBACK_NOT_EARLIER,
            f"{to_version} is not earlier than the released {release.version}; release it instead",
        )
    # Member banks and suspensions stay: a rollback changes what runs, not where.
    rolled_back = replace(
        release,
        version=to_version,
        percent_bp=BUCKETS,
        previous_version=None,
        halted=False,
        halt_reason=None,
    )
    note = f"rolled back from {release.version} ({percent_text(release.percent_bp)}) to {to_version} for everyone"
    return ReleaseChange(rolled_back, AuditAction.RELEASE_ROLLED_BACK, note)
