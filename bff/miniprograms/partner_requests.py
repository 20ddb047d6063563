"""The partner API's request bodies: read within a size limit, parsed into frozen values.

JSON bodies are validated with pydantic and refused with every problem's
JSON Pointer path, like a manifest; the version upload is multipart/form-data.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from decimal import Decimal
from typing import Annotated, Any, Final, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from bff.miniprograms.lifecycle import MemberBanks
from bff.miniprograms.manifest import ALL_MEMBER_BANKS
from bff.miniprograms.partner_problems import PartnerApiError

MAX_JSON_BYTES: Final = 64 * 1024
UPLOAD_PARTS: Final = ("manifest", "signature", "bundle")

MemberBankCode = Annotated[str, Field(pattern=r"^(?:RCB[0-9]{3}|\*)$")]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CreateApp(_Body):
    app_id: str = Field(alias="appId", min_length=1, max_length=100)


class RegisterKey(_Body):
    jwk: dict[str, Any]


class ReviewDecision(_Body):
    approve: bool
    reason: str | None = Field(default=None, max_length=2000)


class ReleaseRequest(_Body):
    version: str = Field(min_length=1, max_length=64)
    # A percentage with up to two decimals: one basis point is the rollout's smallest step.
    percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    member_banks: list[MemberBankCode] = Field(alias="memberBanks", min_length=1, max_length=100)

    @field_validator("member_banks")
    @classmethod
    def _all_alone(cls, banks: list[str]) -> list[str]:
        if "*" in banks and len(banks) > 1:
            raise ValueError('"*" (every member bank) must be the only entry')
        return banks

    @property
    def percent_bp(self) -> int:
        return int(self.percent * 100)

    @property
    def banks(self) -> MemberBanks:
        return ALL_MEMBER_BANKS if self.member_banks == ["*"] else frozenset(self.member_banks)


class HaltRequest(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class SuspendRequest(_Body):
    member_bank: MemberBankCode | None = Field(default=None, alias="memberBank")
    reason: str = Field(min_length=1, max_length=2000)


class ResumeRequest(_Body):
    member_bank: MemberBankCode | None = Field(default=None, alias="memberBank")


class RollbackRequest(_Body):
    version: str = Field(min_length=1, max_length=64)


B = TypeVar("B", bound=BaseModel)
# Builds the API's own refusal: (status, code, detail, field errors). The admin API reads bodies here too.
Refusal = Callable[[int, str, str, list[dict[str, str]]], Exception]


async def read_json(
    request: Request,
    model: type[B],
    *,
    limit: int = MAX_JSON_BYTES,
    refusal: Refusal = PartnerApiError,
    pointer: Callable[[tuple[int | str, ...]], str] | None = None,
) -> B:
    """The request's JSON body as `model`, or a 400/413/415/422 refusal made by `refusal`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise refusal(415, "MEDIA_TYPE_UNSUPPORTED", "send the body as application/json", [])
    raw = await read_body(request, limit, refusal)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise refusal(400, "BODY_NOT_JSON", f"the body is not JSON: {exc}", []) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = pointer or _pointer
        errors = [{"path": where(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise refusal(422, "BODY_INVALID", "the body does not match the request schema", errors) from exc


async def read_body(request: Request, limit: int, refusal: Refusal = PartnerApiError) -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit` bytes (Content-Length or streamed)."""
    too_large = refusal(413, "REQUEST_TOO_LARGE", f"the request body is over the limit of {limit} bytes", [])
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, limit: int) -> dict[str, bytes]:
    """The manifest, signature and bundle parts of a multipart/form-data upload, as bytes."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise PartnerApiError(
            415,
            "MEDIA_TYPE_UNSUPPORTED",
            "upload a version as multipart/form-data (manifest, signature, bundle)",
        )
    # Read under the limit first, then parse the bytes already held.
    body = await read_body(request, limit)

    async def held() -> AsyncGenerator[bytes, None]:
        yield body

    count = len(UPLOAD_PARTS)
    parser = MultiPartParser(request.headers, held(), max_files=count, max_fields=count, max_part_size=limit)
    try:
        form = await parser.parse()
    except (MultiPartException, MultipartParseError) as exc:
        raise PartnerApiError(400, "UPLOAD_MALFORMED", f"the multipart body cannot be read: {exc}") from exc
    try:
        return {name: await _part(form, name) for name in UPLOAD_PARTS}
    finally:
        await form.close()


async def _part(form: FormData, name: str) -> bytes:
    values = form.getlist(name)
    if len(values) != 1:
        raise PartnerApiError(
            422,
            "UPLOAD_PART_MISSING" if not values else "UPLOAD_PART_REPEATED",
            f"the upload needs exactly one {name!r} part",
            [{"path": f"/{name}", "message": "send this part exactly once"}],
        )
    value = values[0]
    if isinstance(value, UploadFile):
        return await value.read()
    return value.encode()


def _pointer(location: tuple[int | str, ...]) -> str:
    # pydantic's field names are the Python ones; the aliases are what partners send.
    aliases = {"app_id": "appId", "member_banks": "memberBanks", "member_bank": "memberBank"}
    parts = [str(aliases.get(str(p), p)).replace("~", "~0").replace("/", "~1") for p in location]
    return "".join(f"/{p}" for p in parts)
