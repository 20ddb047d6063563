"""The experience admin API's request bodies and headers: read within a size limit, parsed into frozen values.

A body that does not match is refused with every problem's JSON Pointer path
(in `errors`, as the partner API does); experience files that do not pass
the checks are a different refusal (EXPERIENCE_INVALID with `problems`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request

from bff.experience.refusals import ExperienceRefused, RefusalCode
from bff.miniprograms.partner_requests import read_json as read_body_as

# A whole experience set: up to 256 KiB a file and a few dozen files, with room to spare.
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
MAX_FILES: Final = 200
MAX_NOTE: Final = 2000

_ETAG: Final = re.compile(r'^(?:W/)?"?([0-9]{1,18})"?$')


class AdminRequestError(Exception):
    """A request refused by its shape (body, header, query), before the experience is looked at."""

    def __init__(
        self, status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


Documents = dict[str, Any]
Percent = Decimal


class FilesBody(_Body):
    """A whole experience set: file path -> JSON document."""

    files: Documents = Field(min_length=1, max_length=MAX_FILES)
    note: str = Field("", max_length=MAX_NOTE)


class AssignBody(_Body):
    profile: str = Field(min_length=1, max_length=40)
    # A percentage to the hundredth: one bucket of 10,000 is the rollout's smallest step.
    rollout_percent: Percent | None = Field(None, alias="rolloutPercent", ge=0, le=100, decimal_places=2)
    dry_run: bool = Field(False, alias="dryRun")
    note: str = Field("", max_length=MAX_NOTE)


class RollbackBody(_Body):
    to_version: int = Field(alias="toVersion", ge=1)
    note: str = Field("", max_length=MAX_NOTE)


class AssignSpec(_Body):
    rule_id: str = Field(alias="ruleId", min_length=1, max_length=40)
    profile: str = Field(min_length=1, max_length=40)
    rollout_percent: Percent | None = Field(None, alias="rolloutPercent", ge=0, le=100, decimal_places=2)


class ScheduleBody(_Body):
    at: AwareDatetime
    files: Documents | None = Field(None, min_length=1, max_length=MAX_FILES)
    assign: AssignSpec | None = None
    note: str = Field("", max_length=MAX_NOTE)

    @model_validator(mode="after")
    def _files_or_assign(self) -> ScheduleBody:
        if (self.files is None) == (self.assign is None):
            raise ValueError("give either files (a whole set) or assign, not both or neither")
        return self


B = TypeVar("B", bound=_Body)


async def read_json(request: Request, model: type[B]) -> B:
    """The request's JSON body as `model`, or a 400/413/415/422 refusal."""
    return await read_body_as(
        request, model, limit=MAX_BODY_BYTES, refusal=AdminRequestError, pointer=_pointer
    )


def expected_version(request: Request) -> int:
    """The version named by If-Match: the one the change was decided on (428 without it)."""
    header = request.headers.get("if-match")
    if header is None:
        raise ExperienceRefused(
            RefusalCode.PRECONDITION_REQUIRED,
            'send If-Match: "<version>" with the version your change is based on '
            "(GET /admin/v1/experience answers it as the ETag)",
        )
    match = _ETAG.match(header.strip())
    if match is None:
        raise AdminRequestError(
            400,
            "IF_MATCH_INVALID",
            f'If-Match must name one version, such as "3" (it is {header[:100]!r}); '
            "* is refused because a change must be decided on a known version",
        )
    return int(match.group(1))


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise AdminRequestError(
            422,
            "QUERY_INVALID",
            f"{name} is a whole number from {low} to {high}",
            [{"path": f"/{name}", "message": f"expected {low} to {high}, got {raw[:50]!r}"}],
        )
    return int(raw)


def _pointer(location: tuple[int | str, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)
