"""What every resolver gets: who is asking, the channels, and per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from bff.auth.bearer import principal_from_headers
from bff.auth.principal import Principal, Role
from bff.auth.validator import TokenValidator
from bff.channels.bundle import Channels
from bff.channels.models import CustomerScope
from bff.channels.request_id import current_request_id
from bff.graphql.exceptions import Forbidden
from bff.graphql.loaders import Loaders
from bff.miniprograms.host import MiniProgramHost

if TYPE_CHECKING:
    from strawberry.types import Info as StrawberryInfo

    from bff.experience.home_screens import HomeScreens
    from bff.journeys.services import JourneyServices


@dataclass(slots=True)
class RequestContext:
    principal: Principal
    channels: Channels
    request_id: str
    miniprograms: MiniProgramHost | None = None
    home_screens: HomeScreens | None = None
    journeys: JourneyServices | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.channels)

    def customer(self) -> CustomerScope:
        """The calling customer's scope; Forbidden for anyone who is not a customer."""
        scope = self.principal.customer_scope
        if scope is None:
            roles = ", ".join(sorted(r.value for r in self.principal.roles))
            raise Forbidden(f"this field is for customers; your token's roles are: {roles}")
        return scope

    def prefetch(self, root_selections: Mapping[str, frozenset[str]]) -> None:
        """Called by the engine before execution: start the loads `me`'s fields will need."""
        under_me = root_selections.get("me")
        scope = self.principal.customer_scope
        if under_me and scope is not None:
            self.loaders.prefetch(scope, set(under_me))

    def require(self, role: Role) -> None:
        if not self.principal.has(role):
            raise Forbidden(f"this operation needs the {role.value!r} role")


def context_of(info: StrawberryInfo[RequestContext, Any]) -> RequestContext:
    return info.context


class ContextFactory:
    """Builds each request's context: the token's principal (AuthError if bad) and fresh loaders."""

    def __init__(
        self,
        validator: TokenValidator,
        channels: Channels,
        miniprograms: MiniProgramHost | None = None,
        home_screens: HomeScreens | None = None,
        journeys: JourneyServices | None = None,
    ) -> None:
        self._validator = validator
        self._channels = channels
        self._miniprograms = miniprograms
        self._home_screens = home_screens
        self._journeys = journeys

    async def __call__(self, request: Request) -> RequestContext:
        return self.for_headers(request.headers)

    def for_headers(self, headers: Mapping[str, str]) -> RequestContext:
        """The context for a caller who sent `headers` (an HTTP request, or a WebSocket's init payload)."""
        principal = principal_from_headers(headers, self._validator)
        request_id = current_request_id.get() or ""
        return RequestContext(
            principal, self._channels, request_id, self._miniprograms, self._home_screens, self._journeys
        )


def context_factory(
    validator: TokenValidator,
    channels: Channels,
    miniprograms: MiniProgramHost | None = None,
    home_screens: HomeScreens | None = None,
    journeys: JourneyServices | None = None,
) -> ContextFactory:
    return ContextFactory(validator, channels, miniprograms, home_screens, journeys)
