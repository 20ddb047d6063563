"""Which scope a bridge call needs, checked against the scopes its token carries."""

from __future__ import annotations

import pytest

from bff.channels.models import CustomerScope
from bff.miniprograms.bridge_errors import BridgeAuthError, BridgeErrorCode
from bff.miniprograms.bridge_scopes import bridge_apis, check_call, granted_for_api, scopes_for_api
from bff.miniprograms.bridge_tokens import BridgeSession
from bff.miniprograms.manifest import SCOPES_FOR_BRIDGE_API


def session(*scopes: str) -> BridgeSession:
    return BridgeSession(
        app_id="com.parkservices.tenant",
        partner_id="parkservices",
        partner_subject="pw_example",
        customer=CustomerScope("c-1", "RCB001"),
        scopes=frozenset(scopes),
        jti="j-1",
        expires_at=1_700_000_300,
    )


def test_call_needing_a_scope_the_token_lacks_is_refused_naming_the_scope() -> None:
    with pytest.raises(BridgeAuthError) as refused:
        check_call(session("profile.name"), "user.phoneMasked")
    assert refused.value.code is BridgeErrorCode.BRIDGE_SCOPE_MISSING
    assert "phone.masked" in refused.value.message


def test_call_is_allowed_with_any_one_of_its_scopes() -> None:
    check_call(session("profile.region"), "user.info")
    assert granted_for_api(session("profile.region", "phone.masked"), "user.info") == {"profile.region"}


def test_api_that_reads_no_user_data_needs_no_scope() -> None:
    check_call(session(), "storage.get")
    assert scopes_for_api("journey.open") == frozenset()


def test_api_the_host_does_not_offer_is_refused() -> None:
    with pytest.raises(BridgeAuthError) as refused:
        check_call(session("profile.name"), "user.idCardNumber")
    assert refused.value.code is BridgeErrorCode.BRIDGE_API_UNKNOWN


def test_every_api_with_a_scope_is_an_api_of_the_manifest_schema() -> None:
    assert set(SCOPES_FOR_BRIDGE_API) <= bridge_apis()
