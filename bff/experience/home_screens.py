"""Home screens for customers (GraphQL `homeScreen`) and previews for UX teams, over the live experience."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol

from bff.channels.bundle import Channels
from bff.channels.models import CustomerProfile, CustomerScope
from bff.experience.attribute_cache import AttributeCache
from bff.experience.home_screen import HomeScreenView, build_home_screen, home_screen_json
from bff.experience.loading import ExperienceSet
from bff.experience.preferences import PreferenceStore
from bff.experience.resolution import Preference, Resolution, resolve
from bff.experience.section_data import AvailableMiniPrograms, SectionData
from bff.experience.segments import AppContext, Channel, CustomerAttributes
from bff.graphql.loaders import Loaders
from bff.miniprograms.manifest import VersionKey, parse_version

# The sample customer a preview shows when the UX team names none.
DEFAULT_SAMPLE_CUSTOMER = "RCB001-00042"


class ExperienceSource(Protocol):
    def current(self) -> tuple[int, ExperienceSet]:
        """The version and set this process serves now (in memory: no I/O on the hot path)."""
        ...


class UnknownSegment(LookupError):
    pass


class UnknownProfile(LookupError):
    pass


class InvalidAppVersion(ValueError):
    pass


class HomeScreens:
    def __init__(
        self,
        source: ExperienceSource,
        preferences: PreferenceStore,
        channels: Channels,
        attributes: AttributeCache | None = None,
    ) -> None:
        self._source = source
        self._preferences = preferences
        self._channels = channels
        self._attributes = attributes or AttributeCache()

    async def for_customer(
        self,
        scope: CustomerScope,
        loaders: Loaders,
        context: AppContext,
        mini_programs: AvailableMiniPrograms | None = None,
    ) -> HomeScreenView:
        version, experience = self._source.current()
        app_version = _version(context.app_version)

        def build(resolution: Resolution, customer: CustomerProfile) -> Awaitable[HomeScreenView]:
            language = customer.preferred_language
            data = SectionData(self._channels, loaders, scope, language, mini_programs)
            return build_home_screen(resolution, version, data, app_version, language)

        known = self._attributes.get(scope)
        if known is None:
            # The preference read overlaps the CRM call, so it adds no latency.
            customer, preferred = await asyncio.gather(
                self._customer(scope, loaders), self._preferences.get(scope)
            )
            attributes = CustomerAttributes.of(customer)
            return await build(resolve(experience, attributes, context, Preference(preferred)), customer)
        # Attributes known: start the screen of a customer without a preference (most customers)
        # while the preference is read, so the read adds no latency either. A preference that
        # changes the outcome builds again; the loads the two share are made once (loaders).
        attributes = CustomerAttributes.of(known)
        guess = resolve(experience, attributes, context, Preference(None))
        early = asyncio.ensure_future(build(guess, known))
        try:
            preferred = await self._preferences.get(scope)
        except BaseException:
            early.cancel()
            raise
        resolution = resolve(experience, attributes, context, Preference(preferred))
        if resolution == guess:
            return await early
        early.add_done_callback(_discard)
        return await build(resolution, known)

    async def _customer(self, scope: CustomerScope, loaders: Loaders) -> CustomerProfile:
        cached = self._attributes.get(scope)
        if cached is not None:
            return cached
        customer = await loaders.profile.load(scope)
        self._attributes.put(scope, customer)
        return customer

    async def set_preference(self, scope: CustomerScope, profile_id: str | None) -> None:
        _, experience = self._source.current()
        if profile_id is not None and profile_id not in experience.profiles:
            known = ", ".join(sorted(experience.profiles))
            raise UnknownProfile(f"there is no profile {profile_id!r}; choose one of: {known}")
        await self._preferences.set(scope, profile_id)

    def profile_ids(self) -> list[str]:
        return sorted(self._source.current()[1].profiles)

    async def preview(self, rule_id: str, customer_id: str | None, app_version: str | None) -> dict[str, Any]:
        """What a sample customer sees under rule `rule_id`'s profile (its rollout left out), as JSON."""
        version, experience = self._source.current()
        rule = next((r for r in experience.segments.all_rules if r.id == rule_id), None)
        if rule is None:
            raise UnknownSegment(f"there is no segment rule {rule_id!r}")
        customer_id = customer_id or DEFAULT_SAMPLE_CUSTOMER
        scope = CustomerScope(customer_id, customer_id.partition("-")[0])
        loaders = Loaders(self._channels)
        customer = await loaders.profile.load(scope)
        resolution = Resolution(
            segment_id=rule.segment_id,
            matched_rule=rule.id,
            elder=rule.elder,
            profile_id=rule.profile_id,
            profile=experience.profile_for(rule.profile_id, scope.member_bank),
            chosen_by="rule",
            rollout_bucket=None,
            explanation=(
                f"preview of rule {rule.id!r} (profile {rule.profile_id!r}) for customer {customer_id}",
            ),
        )
        data = SectionData(self._channels, loaders, scope, customer.preferred_language)
        view = await build_home_screen(
            resolution, version, data, _version(app_version), customer.preferred_language
        )
        return home_screen_json(view)


def _discard(task: asyncio.Future[HomeScreenView]) -> None:
    """A speculative screen nobody shows: its failure must not log 'exception never retrieved'."""
    if not task.cancelled():
        task.exception()


def app_context(channel: Channel, app_version: str | None) -> AppContext:
    _version(app_version)
    return AppContext(channel, app_version)


def _version(app_version: str | None) -> VersionKey | None:
    if app_version is None:
        return None
    try:
        return parse_version(app_version)
    except ValueError:
        raise InvalidAppVersion(f"appVersion {app_version!r} is not a version such as 5.8.0") from None
