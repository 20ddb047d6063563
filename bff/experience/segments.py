"""Segment rules: which profile a customer gets, from their attributes and the app they use.

The format is schemas/segment.schema.json. Rules are tried in order and the
first whose conditions all hold decides; the default catches everyone else.
Within a condition a set means any of its values; across conditions all must
hold. Each check says why it held or not, so a resolution can be explained.

A rollout switches a sticky share of a rule's customers to another profile.
A customer's bucket is a SHA-256 of the customer id, the rule id and the
rollout's salt (never the built-in hash(), which is salted per process), so
every BFF instance agrees, and a rollout at p basis points covers the buckets
below p: raising p only adds customers. Buckets are per rule so that the same
customers are not the first to see every experiment.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any, Final, Literal

from bff.channels.models import AssetsTier, CustomerProfile, RegionType
from bff.experience.problems import Problem, pointer
from bff.miniprograms.encoding import length_prefixed
from bff.miniprograms.manifest import VersionKey, parse_version
from bff.miniprograms.rollout import BUCKETS

Channel = Literal["app", "web", "branch", "call_centre", "mini_program"]

_BUCKET_CONTEXT: Final = "bankapp/experience-rollout-bucket/v1"


@dataclass(frozen=True)
class CustomerAttributes:
    """What segment rules know about a customer (from the CRM)."""

    customer_id: str
    member_bank: str
    age: int
    region_type: RegionType
    assets_tier: AssetsTier

    @classmethod
    def of(cls, customer: CustomerProfile) -> CustomerAttributes:
        return cls(
            customer_id=customer.customer_id,
            member_bank=customer.member_bank,
            age=customer.age,
            region_type=customer.region_type,
            assets_tier=customer.assets_tier,
        )


@dataclass(frozen=True)
class AppContext:
    """Where the request comes from; `app_version` is None when the channel has no app (web, branch)."""

    channel: Channel
    app_version: str | None = None


@dataclass(frozen=True)
class Check:
    """One condition of a rule, evaluated: whether it held, and why in words."""

    holds: bool
    reason: str


# --- conditions ---------------------------------------------------------------


@dataclass(frozen=True)
class AgeRange:
    """Ages in years; both ends included, None for no bound."""

    min: int | None = None
    max: int | None = None

    def contains(self, age: int) -> bool:
        return (self.min is None or age >= self.min) and (self.max is None or age <= self.max)

    def __str__(self) -> str:
        if self.max is None:
            return f"{self.min} or over"
        if self.min is None:
            return f"up to {self.max}"
        return f"{self.min} to {self.max}"


@dataclass(frozen=True)
class VersionRange:
    """App versions from `min` (included) up to `below` (not included); None for no bound."""

    min: str | None = None
    below: str | None = None

    def contains(self, version: VersionKey) -> bool:
        return (self.min is None or version >= parse_version(self.min)) and (
            self.below is None or version < parse_version(self.below)
        )

    def __str__(self) -> str:
        if self.below is None:
            return f"{self.min} or later"
        if self.min is None:
            return f"below {self.below}"
        return f"from {self.min} and below {self.below}"


@dataclass(frozen=True)
class Conditions:
    """What a rule asks of a customer and their app; None means no condition on that attribute."""

    age: AgeRange | None = None
    region_types: frozenset[RegionType] | None = None
    assets_tiers: frozenset[AssetsTier] | None = None
    channels: frozenset[Channel] | None = None
    app_version: VersionRange | None = None
    member_banks: frozenset[str] | None = None

    def check(self, attributes: CustomerAttributes, context: AppContext) -> tuple[Check, ...]:
        """Each condition evaluated, in a fixed order; the rule matches when all hold."""
        return tuple(
            check
            for check in (
                self._age(attributes.age),
                _one_of("region type", attributes.region_type, self.region_types),
                _one_of("assets tier", attributes.assets_tier, self.assets_tiers),
                _one_of("channel", context.channel, self.channels),
                self._app_version(context.app_version),
                _one_of("member bank", attributes.member_bank, self.member_banks),
            )
            if check is not None
        )

    def _age(self, age: int) -> Check | None:
        if self.age is None:
            return None
        holds = self.age.contains(age)
        return Check(holds, f"age {age} is {'' if holds else 'not '}{self.age}")

    def _app_version(self, version: str | None) -> Check | None:
        if self.app_version is None:
            return None
        if version is None:
            return Check(False, f"no app version is known, and the rule asks for {self.app_version}")
        try:
            key = parse_version(version)
        except ValueError:
            return Check(
                False, f"app version {version!r} is not a version, and the rule asks for {self.app_version}"
            )
        holds = self.app_version.contains(key)
        return Check(holds, f"app version {version} is {'' if holds else 'not '}{self.app_version}")


def _one_of(name: str, value: str, allowed: Set[str] | None) -> Check | None:
    if allowed is None:
        return None
    holds = value in allowed
    return Check(holds, f"{name} {value} is {'' if holds else 'not '}one of {', '.join(sorted(allowed))}")


# --- rollouts -----------------------------------------------------------------


@dataclass(frozen=True)
class Rollout:
    """A sticky share of a rule's customers that gets `profile_id` instead of the rule's profile."""

    percent: float
    profile_id: str
    salt: str = ""

    @property
    def basis_points(self) -> int:
        return round(self.percent * 100)

    def includes(self, customer_bucket: int) -> bool:
        """Whether a bucket is inside the rollout (0 % reaches nobody, 100 % everybody)."""
        return customer_bucket < self.basis_points


def rollout_bucket(rule_id: str, salt: str, customer_id: str) -> int:
    """The customer's fixed bucket in [0, 10000) for a rule's rollout."""
    digest = hashlib.sha256(length_prefixed(_BUCKET_CONTEXT, rule_id, salt, customer_id)).digest()
    # 64 bits modulo 10,000: the bias is below 1e-15, nothing a rollout can show.
    return int.from_bytes(digest[:8], "big") % BUCKETS


# --- rules and the segment set ------------------------------------------------


@dataclass(frozen=True)
class SegmentRule:
    """One rule; the default rule has no conditions (it matches everyone)."""

    id: str
    segment_id: str
    description: str | None
    conditions: Conditions
    elder: bool
    profile_id: str
    rollout: Rollout | None = None

    @property
    def profile_ids(self) -> frozenset[str]:
        """Every profile the rule can give: its own and its rollout's."""
        return frozenset({self.profile_id, *([self.rollout.profile_id] if self.rollout else [])})


@dataclass(frozen=True)
class SegmentSet:
    rules: tuple[SegmentRule, ...]
    default: SegmentRule
    description: str | None = None

    @property
    def all_rules(self) -> tuple[SegmentRule, ...]:
        """The rules in the order they are tried, the default last."""
        return (*self.rules, self.default)

    @property
    def elder_profile_ids(self) -> frozenset[str]:
        """Profiles some segment marked elder can show; each must pass the elder guideline."""
        return frozenset(profile for rule in self.all_rules if rule.elder for profile in rule.profile_ids)


def read_segment_set(document: Mapping[str, Any]) -> SegmentSet:
    """The `SegmentSet` of a document that passed the segment schema."""
    return SegmentSet(
        rules=tuple(_read_rule(rule) for rule in document["rules"]),
        default=_read_rule(document["default"]),
        description=document.get("description"),
    )


def _read_rule(rule: Mapping[str, Any]) -> SegmentRule:
    rollout = rule.get("rollout")
    return SegmentRule(
        id=rule["id"],
        segment_id=rule.get("segment", rule["id"]),
        description=rule.get("description"),
        conditions=_read_conditions(rule.get("when", {})),
        elder=bool(rule.get("elder", False)),
        profile_id=rule["profile"],
        rollout=Rollout(float(rollout["percent"]), rollout["profile"], rollout.get("salt", ""))
        if rollout
        else None,
    )


def _read_conditions(when: Mapping[str, Any]) -> Conditions:
    age, version = when.get("age"), when.get("appVersion")

    def values(key: str) -> frozenset[Any] | None:
        return frozenset(when[key]) if key in when else None

    return Conditions(
        age=AgeRange(age.get("min"), age.get("max")) if age else None,
        region_types=values("regionTypes"),
        assets_tiers=values("assetsTiers"),
        channels=values("channels"),
        app_version=VersionRange(version.get("min"), version.get("below")) if version else None,
        member_banks=values("memberBanks"),
    )


# --- rules the schema cannot express ------------------------------------------


def segment_problems(document: Mapping[str, Any], profile_ids: Set[str]) -> list[Problem]:
    """Problems in a document that passed the segment schema, given the profiles that exist."""
    rules = [(pointer("rules", index), rule) for index, rule in enumerate(document["rules"])]
    rules.append((pointer("default"), document["default"]))
    return [
        *_duplicate_rule_ids(rules),
        *_segments_disagreeing_on_elder(rules),
        *(problem for path, rule in rules for problem in _rule_problems(path, rule, profile_ids)),
    ]


def _rule_problems(path: str, rule: Mapping[str, Any], profile_ids: Set[str]) -> Iterator[Problem]:
    age, version = rule.get("when", {}).get("age", {}), rule.get("when", {}).get("appVersion", {})
    if "min" in age and "max" in age and age["min"] > age["max"]:
        yield Problem("", f"{path}/when/age/max", f"must be at least min ({age['min']}) (it is {age['max']})")
    if (
        "min" in version
        and "below" in version
        and parse_version(version["min"]) >= parse_version(version["below"])
    ):
        yield Problem(
            "", f"{path}/when/appVersion/below", f"must be a later version than min ({version['min']})"
        )
    yield from _unknown_profile(f"{path}/profile", rule["profile"], profile_ids)
    rollout = rule.get("rollout")
    if rollout:
        yield from _unknown_profile(f"{path}/rollout/profile", rollout["profile"], profile_ids)
        if rollout["profile"] == rule["profile"]:
            yield Problem(
                "",
                f"{path}/rollout/profile",
                f"the rollout must name a profile other than the rule's ({rule['profile']!r})",
            )


def _unknown_profile(path: str, profile_id: str, profile_ids: Set[str]) -> Iterator[Problem]:
    if profile_id not in profile_ids:
        known = ", ".join(sorted(profile_ids)) or "none"
        yield Problem("", path, f"there is no profile {profile_id!r} (profiles: {known})")


def _duplicate_rule_ids(rules: list[tuple[str, Mapping[str, Any]]]) -> Iterator[Problem]:
    first_seen: dict[str, str] = {}
    for path, rule in rules:
        if rule["id"] in first_seen:
            yield Problem(
                "",
                f"{path}/id",
                f"rule id {rule['id']!r} is used twice (first at {first_seen[rule['id']]}/id)",
            )
        else:
            first_seen[rule["id"]] = path


def _segments_disagreeing_on_elder(rules: list[tuple[str, Mapping[str, Any]]]) -> Iterator[Problem]:
    by_segment: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for path, rule in rules:
        by_segment[rule.get("segment", rule["id"])].append((path, bool(rule.get("elder", False))))
    for segment, entries in by_segment.items():
        first_path, first_elder = entries[0]
        for path, elder in entries[1:]:
            if elder != first_elder:
                yield Problem(
                    "",
                    f"{path}/elder",
                    f"segment {segment!r} is {'' if first_elder else 'not '}marked elder at {first_path}; "
                    "every rule of a segment must agree",
                )
