"""Registry records as the partner API's JSON (camelCase, RFC 3339 times), as in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from bff.miniprograms.lifecycle import MemberBanks, Release, Review
from bff.miniprograms.manifest import ALL_MEMBER_BANKS, PermissionDiff
from bff.miniprograms.registry_records import App, AuditEvent, Version


def timestamp(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def banks(value: MemberBanks) -> list[str]:
    return [ALL_MEMBER_BANKS.value] if value is ALL_MEMBER_BANKS else sorted(value)


def app_view(app: App) -> dict[str, Any]:
    return {"appId": app.app_id, "partnerId": app.partner_id, "createdAt": timestamp(app.created_at)}


def bundle_url(sha256: str, entry_page: str) -> str:
    return f"/miniprograms/bundles/{sha256}/{entry_page}"


def version_view(version: Version) -> dict[str, Any]:
    """A version as listed: its state and review, without the manifest."""
    return {
        "appId": version.app_id,
        "version": version.version,
        "state": version.state.value,
        "bundleSha256": version.bundle_sha256,
        "bundleUrl": bundle_url(version.bundle_sha256, version.manifest.entry_page),
        "addedAt": timestamp(version.added_at),
        "addedBy": version.added_by,
        "submittedAt": timestamp(version.submitted_at),
        "approvers": list(version.approvers),
        "reviews": [review_view(review) for review in version.reviews],
    }


def version_detail(version: Version, diff: PermissionDiff, diff_base: str | None) -> dict[str, Any]:
    """A version with its signed manifest and its permission diff against the released version."""
    return {
        **version_view(version),
        "manifest": orjson.loads(version.manifest_bytes),
        "manifestJws": version.manifest_jws,
        "permissionDiff": diff_view(diff, diff_base),
    }


def review_view(review: Review) -> dict[str, Any]:
    return {
        "reviewer": review.reviewer,
        "approve": review.approve,
        "reason": review.reason,
        "at": timestamp(review.at),
        "permissionDiff": diff_view(review.permission_diff, review.diff_base),
    }


def diff_view(diff: PermissionDiff, base: str | None) -> dict[str, Any]:
    return {
        "baseVersion": base,
        "addedScopes": list(diff.added_scopes),
        "removedScopes": list(diff.removed_scopes),
        "addedBridgeApis": list(diff.added_bridge_apis),
        "removedBridgeApis": list(diff.removed_bridge_apis),
        "addedNetworkDomains": list(diff.added_network_domains),
        "removedNetworkDomains": list(diff.removed_network_domains),
        "needsSecondReview": diff.needs_second_review,
        "needsNewConsent": diff.needs_new_consent,
    }


def release_view(release: Release) -> dict[str, Any]:
    return {
        "appId": release.app_id,
        "version": release.version,
        "percent": release.percent_bp / 100,
        "percentBasisPoints": release.percent_bp,
        "memberBanks": banks(release.member_banks),
        "previousVersion": release.previous_version,
        "halted": release.halted,
        "haltReason": release.halt_reason,
        "suspended": banks(release.suspended),
        "generation": release.generation,
    }


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": timestamp(event.at),
        "actor": event.actor,
        "action": event.action.value,
        "version": event.version,
        "before": dict(event.before),
        "after": dict(event.after),
        "note": event.note,
        "generation": event.generation,
    }
