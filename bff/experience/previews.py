"""The admin API's preview source: a sample customer's home screen, with refusals the API can answer."""

from __future__ import annotations

from typing import Any

from bff.channels.errors import ChannelFailure, ChannelRejected
from bff.experience.admin_api import PreviewSource
from bff.experience.admin_requests import AdminRequestError
from bff.experience.home_screens import HomeScreens, InvalidAppVersion


def preview_source(screens: HomeScreens) -> PreviewSource:
    async def preview(rule_id: str, customer_id: str | None, app_version: str | None) -> dict[str, Any]:
        try:
            return await screens.preview(rule_id, customer_id, app_version)
        except InvalidAppVersion as exc:
            raise AdminRequestError(
                422, "QUERY_INVALID", str(exc), [{"path": "/appVersion", "message": str(exc)}]
            ) from None
        except ChannelRejected as exc:
            raise AdminRequestError(
                404,
                "CUSTOMER_NOT_FOUND",
                f"the CRM does not know customer {customer_id!r}: {exc.reason_text}",
            ) from None
        except ChannelFailure as exc:
            raise AdminRequestError(
                503,
                "DOWNSTREAM_UNAVAILABLE",
                f"the sample customer's profile cannot be read now ({exc.service})",
            ) from None

    return preview
