"""Manifests: the schema's every rule, the host's extra rules, SemVer precedence, permission diffs."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest

from bff.miniprograms.manifest import (
    ALL_MEMBER_BANKS,
    MAX_MANIFEST_BYTES,
    SCHEMA_PATH,
    Manifest,
    ManifestError,
    Problem,
    RateLimits,
    compare_versions,
    load_manifest,
    parse_version,
    permission_diff,
)

SAMPLE: dict[str, Any] = {
    "appId": "com.parkservices.tenant",
    "version": "1.2.0",
    "names": {"zh-CN": "园区服务", "en": "Park services"},
    "description": {"en": "Pay the rent and book meeting rooms in your business park."},
    "icons": {"48": "icons/48.png", "192": "icons/192.webp"},
    "entryPage": "index.html",
    "pages": ["index.html", "pages/rent.html", "pages/rooms.html"],
    "bridgeApis": [
        {"api": "user.info", "purpose": "Greet you by name"},
        {"api": "payment.request", "purpose": "Pay your rent"},
    ],
    "scopes": [
        {"scope": "profile.name", "purpose": "Greet you by name"},
        {"scope": "payments.initiate", "purpose": "Pay your rent"},
    ],
    "networkDomains": ["https://api.parkservices.com", "https://*.cdn.parkservices.com:8443"],
    "memberBanks": ["RCB001", "RCB002"],
    "segments": ["standard", "youth"],
    "minAppVersion": "5.2.0",
    "bundle": {"sha256": "0123456789abcdef" * 4, "size": 123456},
    "rateLimits": {"perCustomerPerMinute": 60, "perAppPerSecond": 200},
}

REQUIRED = [
    "appId",
    "version",
    "names",
    "icons",
    "entryPage",
    "pages",
    "bridgeApis",
    "scopes",
    "networkDomains",
    "memberBanks",
    "minAppVersion",
    "bundle",
    "rateLimits",
]


def _walk(document: Any, pointer: str) -> tuple[Any, str | int]:
    """The container of the value at `pointer` and its key there."""
    *parents, last = pointer.split("/")[1:]
    for part in parents:
        document = document[int(part) if isinstance(document, list) else part]
    return document, int(last) if isinstance(document, list) and last != "-" else last


def replaced(pointer: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(SAMPLE)
    container, key = _walk(document, pointer)
    if key == "-":
        container.append(value)
    else:
        container[key] = value
    return document


def removed(pointer: str) -> dict[str, Any]:
    document = copy.deepcopy(SAMPLE)
    container, key = _walk(document, pointer)
    del container[key]
    return document


def problems_of(raw: Any) -> list[Problem]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(raw)
    return caught.value.problems


# --- a valid manifest -------------------------------------------------------


def test_valid_manifest_becomes_a_manifest_with_every_field() -> None:
    manifest = load_manifest(SAMPLE)

    assert manifest == Manifest(
        app_id="com.parkservices.tenant",
        version="1.2.0",
        version_key=parse_version("1.2.0"),
        names=(("en", "Park services"), ("zh-CN", "园区服务")),
        descriptions=(("en", "Pay the rent and book meeting rooms in your business park."),),
        icons=((48, "icons/48.png"), (192, "icons/192.webp")),
        entry_page="index.html",
        pages=("index.html", "pages/rent.html", "pages/rooms.html"),
        bridge_apis=(("user.info", "Greet you by name"), ("payment.request", "Pay your rent")),
        scopes=(("profile.name", "Greet you by name"), ("payments.initiate", "Pay your rent")),
        network_domains=("https://api.parkservices.com", "https://*.cdn.parkservices.com:8443"),
        member_banks=frozenset({"RCB001", "RCB002"}),
        segments=("standard", "youth"),
        min_app_version=(5, 2, 0),
        bundle_sha256="0123456789abcdef" * 4,
        bundle_size=123456,
        rate_limits=RateLimits(per_customer_per_minute=60, per_app_per_second=200),
    )
    assert manifest.serves_member_bank("RCB001")
    assert not manifest.serves_member_bank("RCB003")


def test_bytes_str_and_mapping_give_the_same_manifest() -> None:
    text = json.dumps(SAMPLE)
    assert load_manifest(text) == load_manifest(text.encode()) == load_manifest(SAMPLE)


def test_star_member_banks_serves_every_member_bank() -> None:
    manifest = load_manifest(replaced("/memberBanks", ["*"]))
    assert manifest.member_banks is ALL_MEMBER_BANKS
    assert manifest.serves_member_bank("RCB042")


def test_optional_segments_and_description_may_be_left_out() -> None:
    document = removed("/segments")
    del document["description"]
    manifest = load_manifest(document)
    assert manifest.segments == ()
    assert manifest.descriptions == ()


def test_manifest_without_scopes_or_bridge_apis_is_valid() -> None:
    document = replaced("/bridgeApis", [])
    document["scopes"] = []
    assert load_manifest(document).scopes == ()


def test_bridge_apis_without_user_data_need_no_scope() -> None:
    document = replaced("/bridgeApis", [{"api": "storage.get", "purpose": "Remember your last park"}])
    document["scopes"] = []
    assert load_manifest(document).bridge_api_names == frozenset({"storage.get"})


def test_integral_float_size_is_read_as_an_int() -> None:
    # JSON Schema counts 123456.0 as an integer; the Manifest must still hold an int.
    manifest = load_manifest(replaced("/bundle/size", 123456.0))
    assert manifest.bundle_size == 123456
    assert isinstance(manifest.bundle_size, int)


# --- one rejected manifest per rule -----------------------------------------

LONG_APP_ID = ".".join(["a" * 30] * 4)  # every label fits, the whole does not (123 > 100)


def case(document: Any, path: str, fragment: str, *, also: tuple[str, ...] = (), id: str) -> Any:
    return pytest.param(document, path, fragment, also, id=id)


# One row per rule: (document, path of the problem, part of its message, other paths expected).
# fmt: off
REJECTED = [
    # unknown keys are refused, never dropped
    case(replaced("/partnerId", "p-1"), "/partnerId", "unknown key 'partnerId' (allowed: appId,", id="unknown-top-level-key"),
    case(replaced("/bundle/url", "https://x.example.com/b.zip"), "/bundle/url", "unknown key 'url' (allowed: sha256, size)", id="unknown-key-in-bundle"),
    case(replaced("/scopes/0/reason", "x"), "/scopes/0/reason", "unknown key 'reason' (allowed: scope, purpose)", id="unknown-key-in-scope"),
    case(replaced("/bridgeApis/0/name", "x"), "/bridgeApis/0/name", "unknown key 'name'", id="unknown-key-in-bridge-api"),
    case(replaced("/rateLimits/perDay", 5), "/rateLimits/perDay", "unknown key 'perDay'", id="unknown-key-in-rate-limits"),
    # nested required keys
    case(removed("/bundle/sha256"), "/bundle/sha256", "required key 'sha256' is missing", id="bundle-without-sha256"),
    case(removed("/bundle/size"), "/bundle/size", "required key 'size' is missing", id="bundle-without-size"),
    case(removed("/rateLimits/perAppPerSecond"), "/rateLimits/perAppPerSecond", "required key", id="rate-limits-without-per-app"),
    case(removed("/rateLimits/perCustomerPerMinute"), "/rateLimits/perCustomerPerMinute", "required key", id="rate-limits-without-per-customer"),
    case(removed("/scopes/0/purpose"), "/scopes/0/purpose", "required key 'purpose' is missing", id="scope-without-purpose"),
    case(removed("/bridgeApis/1/api"), "/bridgeApis/1/api", "required key 'api' is missing", id="bridge-api-without-api"),
    # appId
    case(replaced("/appId", "com.ParkServices.tenant"), "/appId", "is not a reverse-domain id", id="app-id-uppercase"),
    case(replaced("/appId", "parkservices"), "/appId", "is not a reverse-domain id", id="app-id-one-label"),
    case(replaced("/appId", "com.1park.tenant"), "/appId", "is not a reverse-domain id", id="app-id-label-leading-digit"),
    case(replaced("/appId", "com..tenant"), "/appId", "is not a reverse-domain id", id="app-id-empty-label"),
    case(replaced("/appId", "com.parkservices.tenant."), "/appId", "is not a reverse-domain id", id="app-id-trailing-dot"),
    case(replaced("/appId", "com." + "a" * 32), "/appId", "is not a reverse-domain id", id="app-id-label-too-long"),
    case(replaced("/appId", ".".join("abcdefghi")), "/appId", "is not a reverse-domain id", id="app-id-nine-labels"),
    case(replaced("/appId", LONG_APP_ID), "/appId", "at most 100 characters long (it has 123)", id="app-id-too-long"),
    case(replaced("/appId", "com.parkservices.tenant\n"), "/appId", "is not a reverse-domain id", id="app-id-trailing-newline"),
    case(replaced("/appId", 42), "/appId", "must be a string, not an integer", id="app-id-not-a-string"),
    # version
    case(replaced("/version", "1.0"), "/version", "is not a semantic version", id="version-two-parts"),
    case(replaced("/version", "01.0.0"), "/version", "is not a semantic version", id="version-leading-zero"),
    case(replaced("/version", "v1.0.0"), "/version", "is not a semantic version", id="version-v-prefix"),
    case(replaced("/version", "1.0.0-"), "/version", "is not a semantic version", id="version-empty-prerelease"),
    case(replaced("/version", "1.0.0-beta.01"), "/version", "is not a semantic version", id="version-prerelease-leading-zero"),
    case(replaced("/version", "1.0.0+"), "/version", "is not a semantic version", id="version-empty-build"),
    case(replaced("/version", "1.0.0-" + "a" * 60), "/version", "at most 64 characters", id="version-too-long"),
    # names and description
    case(replaced("/names", {"fr": "Services du parc"}), "/names", "at least one of the keys 'zh-CN', 'en'", id="names-without-zh-cn-or-en"),
    case(replaced("/names", {}), "/names", "must have at least 1 key", id="names-empty"),
    case(replaced("/names/en", "P" * 41), "/names/en", "at most 40 characters", id="name-too-long"),
    case(replaced("/names/en", ""), "/names/en", "at least 1 character", id="name-empty"),
    case(replaced("/names/en", " Park"), "/names/en", "without control characters or leading or trailing spaces", id="name-leading-space"),
    case(replaced("/names/en", "Park\u0007"), "/names/en", "without control characters", id="name-control-character"),
    case(replaced("/names/English", "Park"), "/names/English", "key 'English' is not a language tag", id="names-key-not-a-language-tag"),
    case(replaced("/names/EN-us", "Park"), "/names/EN-us", "is not a language tag", id="names-key-wrong-case"),
    case(replaced("/names", {"en": "P", **{f"x{c}": "P" for c in "abcdefghij"}}), "/names", "at most 10 keys (it has 11)", id="names-too-many"),
    case(replaced("/description/en", "d" * 501), "/description/en", "at most 500 characters", id="description-too-long"),
    case(replaced("/description/zh_CN", "园区"), "/description/zh_CN", "is not a language tag", id="description-key-not-a-language-tag"),
    # icons
    case(replaced("/icons", {}), "/icons", "at least 1 key", id="icons-empty"),
    case(replaced("/icons/50", "icons/50.png"), "/icons/50", "key '50' is not one of: 48, 72, 96, 144, 192, 512", id="icon-size-not-offered"),
    case(replaced("/icons/48", "https://cdn.parkservices.com/48.png"), "/icons/48", "is not a path inside the bundle", id="icon-external-url"),
    case(replaced("/icons/48", "/icons/48.png"), "/icons/48", "is not a path inside the bundle", id="icon-absolute-path"),
    case(replaced("/icons/48", "icons/48.svg"), "/icons/48", ".png or .webp", id="icon-svg"),
    case(replaced("/icons", {size: f"icons/{size}.png" for size in ("48", "72", "96", "144", "192", "512")}), "/icons", "at most 5 keys (it has 6)", id="icons-too-many"),
    # entryPage and pages
    case(replaced("/entryPage", "../index.html"), "/entryPage", "no '..'", id="entry-page-parent-directory"),
    case(replaced("/entryPage", "pages/../../index.html"), "/entryPage", "no '..'", id="entry-page-parent-directory-inside"),
    case(replaced("/entryPage", "/index.html"), "/entryPage", "no leading '/'", id="entry-page-absolute"),
    case(replaced("/entryPage", "https://evil.example.com/index.html"), "/entryPage", "no scheme", id="entry-page-with-scheme"),
    case(replaced("/entryPage", "index.htm"), "/entryPage", "ending in .html", id="entry-page-not-html"),
    case(replaced("/entryPage", "index.html?debug=1"), "/entryPage", "no query", id="entry-page-with-query"),
    case(replaced("/entryPage", "pages/" + "p" * 200 + ".html"), "/entryPage", "at most 200 characters long", id="entry-page-too-long"),
    case(replaced("/entryPage", "pages/help.html"), "/entryPage", "'pages/help.html' is not one of pages", id="entry-page-not-in-pages"),
    case(replaced("/pages/-", "index.html"), "/pages/3", "duplicate of /pages/0", id="pages-duplicate"),
    case(replaced("/pages", []), "/pages", "at least 1 entry", also=("/entryPage",), id="pages-empty"),
    case(replaced("/pages", ["index.html"] + [f"p{i}.html" for i in range(50)]), "/pages", "at most 50 entries (it has 51)", id="pages-too-many"),
    case(replaced("/pages/1", "pages\\rent.html"), "/pages/1", "is not a path inside the bundle", id="page-with-backslash"),
    # bridgeApis
    case(replaced("/bridgeApis/0/api", "camera.open"), "/bridgeApis/0/api", "'camera.open' is not one of: user.info, user.phoneMasked,", id="bridge-api-not-in-closed-list"),
    case(replaced("/bridgeApis/0/purpose", "hi"), "/bridgeApis/0/purpose", "at least 5 characters long (it has 2)", id="bridge-api-purpose-too-short"),
    case(replaced("/bridgeApis/0/purpose", "p" * 201), "/bridgeApis/0/purpose", "at most 200 characters", id="bridge-api-purpose-too-long"),
    case(replaced("/bridgeApis/-", {"api": "user.info", "purpose": "Show your name"}), "/bridgeApis/2/api", "'user.info' is declared twice (first at /bridgeApis/0/api)", id="bridge-api-declared-twice"),
    case(replaced("/bridgeApis/-", copy.deepcopy(SAMPLE["bridgeApis"][0])), "/bridgeApis/2/api", "declared twice", id="bridge-api-exact-duplicate"),
    case(replaced("/bridgeApis/0", "user.info"), "/bridgeApis/0", "must be an object, not a string", id="bridge-api-not-an-object"),
    # scopes
    case(replaced("/scopes/0/scope", "contacts.all"), "/scopes/0/scope", "'contacts.all' is not one of: profile.name,", also=("/bridgeApis/0/api",), id="scope-not-in-closed-list"),
    case(replaced("/scopes/1/purpose", "pay"), "/scopes/1/purpose", "at least 5 characters", id="scope-purpose-too-short"),
    case(replaced("/scopes/-", {"scope": "profile.name", "purpose": "Address you properly"}), "/scopes/2/scope", "'profile.name' is declared twice (first at /scopes/0/scope)", id="scope-requested-twice"),
    case(replaced("/scopes", [{"scope": "profile.name", "purpose": f"Reason {i}"} for i in range(16)]), "/scopes", "at most 15 entries (it has 16)", also=(*(f"/scopes/{i}/scope" for i in range(1, 16)), "/bridgeApis/1/api"), id="scopes-too-many"),
    # networkDomains
    case(replaced("/networkDomains/0", "http://api.parkservices.com"), "/networkDomains/0", "is not an https origin", id="domain-http"),
    case(replaced("/networkDomains/0", "https://api.parkservices.com/v1"), "/networkDomains/0", "no path", id="domain-with-path"),
    case(replaced("/networkDomains/0", "https://api.parkservices.com/"), "/networkDomains/0", "is not an https origin", id="domain-trailing-slash"),
    case(replaced("/networkDomains/0", "https://api.parkservices.com?x=1"), "/networkDomains/0", "query", id="domain-with-query"),
    case(replaced("/networkDomains/0", "https://me@api.parkservices.com"), "/networkDomains/0", "user info", id="domain-with-userinfo"),
    case(replaced("/networkDomains/0", "*"), "/networkDomains/0", "is not an https origin", id="domain-bare-star"),
    case(replaced("/networkDomains/0", "https://*"), "/networkDomains/0", "is not an https origin", id="domain-https-star"),
    case(replaced("/networkDomains/0", "https://*.com"), "/networkDomains/0", "at least two labels follow", id="domain-wildcard-over-tld"),
    case(replaced("/networkDomains/0", "https://api.*.parkservices.com"), "/networkDomains/0", "may start with '*.'", id="domain-wildcard-inside"),
    case(replaced("/networkDomains/0", "https://API.parkservices.com"), "/networkDomains/0", "lowercase host", id="domain-uppercase-host"),
    case(replaced("/networkDomains/0", "https://localhost"), "/networkDomains/0", "at least two labels", id="domain-single-label"),
    case(replaced("/networkDomains/0", "https://10.0.0.1"), "/networkDomains/0", "ending in a letter label", id="domain-ip-address"),
    case(replaced("/networkDomains/0", "https://api.parkservices.com:65536"), "/networkDomains/0", "https://host:port", id="domain-port-out-of-range"),
    case(replaced("/networkDomains/0", "https://api.parkservices.com\n"), "/networkDomains/0", "is not an https origin", id="domain-trailing-newline"),
    case(replaced("/networkDomains/-", "https://api.parkservices.com"), "/networkDomains/2", "duplicate of /networkDomains/0", id="domain-duplicate"),
    case(replaced("/networkDomains", [f"https://h{i}.example.com" for i in range(21)]), "/networkDomains", "at most 20 entries", id="domains-too-many"),
    # memberBanks
    case(replaced("/memberBanks", ["*", "RCB001"]), "/memberBanks", "'*' means all member banks and must be the only entry", id="member-banks-star-with-codes"),
    case(replaced("/memberBanks", ["*", "*"]), "/memberBanks", "must be the only entry", also=("/memberBanks/1",), id="member-banks-star-twice"),
    case(replaced("/memberBanks/0", "RCB01"), "/memberBanks/0", "is not a member bank code such as RCB001", id="member-bank-code-too-short"),
    case(replaced("/memberBanks/0", "rcb001"), "/memberBanks/0", "is not a member bank code", id="member-bank-code-lowercase"),
    case(replaced("/memberBanks", []), "/memberBanks", "at least 1 entry", id="member-banks-empty"),
    case(replaced("/memberBanks", "*"), "/memberBanks", "must be an array, not a string", id="member-banks-star-not-in-array"),
    case(replaced("/memberBanks/-", "RCB001"), "/memberBanks/2", "duplicate of /memberBanks/0", id="member-bank-duplicate"),
    case(replaced("/memberBanks", [f"RCB{i:03}" for i in range(101)]), "/memberBanks", "at most 100 entries", id="member-banks-too-many"),
    # segments
    case(replaced("/segments/0", "Youth"), "/segments/0", "is not a segment id", id="segment-uppercase"),
    case(replaced("/segments/0", "y"), "/segments/0", "is not a segment id", id="segment-too-short"),
    case(replaced("/segments/0", "7-eleven"), "/segments/0", "is not a segment id", id="segment-leading-digit"),
    case(replaced("/segments/-", "youth"), "/segments/2", "duplicate of /segments/1", id="segment-duplicate"),
    case(replaced("/segments", [f"seg-{i}" for i in range(21)]), "/segments", "at most 20 entries", id="segments-too-many"),
    # minAppVersion
    case(replaced("/minAppVersion", "5.2"), "/minAppVersion", "is not an app version as MAJOR.MINOR.PATCH", id="min-app-version-two-parts"),
    case(replaced("/minAppVersion", "5.2.0-beta"), "/minAppVersion", "is not an app version", id="min-app-version-prerelease"),
    case(replaced("/minAppVersion", "05.2.0"), "/minAppVersion", "without leading zeros", id="min-app-version-leading-zero"),
    case(replaced("/minAppVersion", 520), "/minAppVersion", "must be a string, not an integer", id="min-app-version-number"),
    # bundle
    case(replaced("/bundle/sha256", "a" * 63), "/bundle/sha256", "is not a SHA-256 digest of the bundle as 64 lowercase", id="sha256-too-short"),
    case(replaced("/bundle/sha256", "a" * 65), "/bundle/sha256", "64 lowercase hexadecimal digits", id="sha256-too-long"),
    case(replaced("/bundle/sha256", "A" * 64), "/bundle/sha256", "64 lowercase hexadecimal digits", id="sha256-uppercase"),
    case(replaced("/bundle/sha256", "g" * 64), "/bundle/sha256", "64 lowercase hexadecimal digits", id="sha256-not-hex"),
    case(replaced("/bundle/size", 0), "/bundle/size", "must be at least 1 (it is 0)", id="bundle-size-zero"),
    case(replaced("/bundle/size", 10_000_001), "/bundle/size", "must be at most 10000000 (it is 10000001)", id="bundle-size-too-big"),
    case(replaced("/bundle/size", 1.5), "/bundle/size", "must be an integer, not a number", id="bundle-size-fraction"),
    case(replaced("/bundle/size", "100"), "/bundle/size", "must be an integer, not a string", id="bundle-size-string"),
    # rateLimits
    case(replaced("/rateLimits/perCustomerPerMinute", 0), "/rateLimits/perCustomerPerMinute", "at least 1", id="per-customer-zero"),
    case(replaced("/rateLimits/perCustomerPerMinute", 601), "/rateLimits/perCustomerPerMinute", "at most 600", id="per-customer-too-high"),
    case(replaced("/rateLimits/perAppPerSecond", 0), "/rateLimits/perAppPerSecond", "at least 1", id="per-app-zero"),
    case(replaced("/rateLimits/perAppPerSecond", 5001), "/rateLimits/perAppPerSecond", "at most 5000", id="per-app-too-high"),
    case(replaced("/rateLimits/perAppPerSecond", True), "/rateLimits/perAppPerSecond", "must be an integer, not a boolean", id="per-app-boolean"),
]
# fmt: on


@pytest.mark.parametrize(("document", "path", "fragment", "also"), REJECTED)
def test_manifest_breaking_one_rule_is_refused_naming_the_field(
    document: Any, path: str, fragment: str, also: tuple[str, ...]
) -> None:
    problems = problems_of(document)
    assert {problem.path for problem in problems} == {path, *also}
    assert any(problem.path == path and fragment in problem.message for problem in problems), problems


@pytest.mark.parametrize("key", REQUIRED)
def test_manifest_missing_a_required_key_is_refused_naming_the_key(key: str) -> None:
    assert problems_of(removed(f"/{key}")) == [Problem(f"/{key}", f"required key {key!r} is missing")]


SCOPE_RULES = [
    pytest.param("user.info", "profile.name", id="user-info-needs-a-profile-scope"),
    pytest.param("user.phoneMasked", "phone.masked", id="phone-needs-phone-masked"),
    pytest.param("payment.request", "payments.initiate", id="payment-needs-payments-initiate"),
    pytest.param("location.city", "location.city", id="location-api-needs-location-scope"),
]


@pytest.mark.parametrize(("api", "scope"), SCOPE_RULES)
def test_bridge_api_without_its_scope_is_refused_at_the_api(api: str, scope: str) -> None:
    document = replaced("/bridgeApis", [{"api": api, "purpose": "Serve you better"}])
    document["scopes"] = [{"scope": "profile.language", "purpose": "Speak your language"}]
    if api == "user.info":
        document["scopes"] = [{"scope": "phone.masked", "purpose": "Show your phone"}]

    problems = problems_of(document)

    assert [problem.path for problem in problems] == ["/bridgeApis/0/api"]
    assert f"bridge API {api!r} needs the scope" in problems[0].message
    assert scope in problems[0].message


@pytest.mark.parametrize("scope", ["profile.name", "profile.language", "profile.region"])
def test_user_info_is_satisfied_by_any_profile_scope(scope: str) -> None:
    document = replaced("/bridgeApis", [{"api": "user.info", "purpose": "Greet you"}])
    document["scopes"] = [{"scope": scope, "purpose": "Greet you"}]
    assert load_manifest(document).scope_names == {scope}


# --- the document as a whole ------------------------------------------------


def test_oversize_manifest_is_refused_before_parsing() -> None:
    raw = b'{"appId": "' + b"a" * MAX_MANIFEST_BYTES + b'"}'
    [problem] = problems_of(raw)
    assert problem.path == ""
    assert f"the limit is {MAX_MANIFEST_BYTES} bytes" in problem.message


def test_oversize_manifest_given_as_text_is_refused() -> None:
    [problem] = problems_of("x" * (MAX_MANIFEST_BYTES + 1))
    assert "limit" in problem.message


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param(b'{"appId": ', "invalid JSON at line 1 column 11", id="truncated"),
        pytest.param(b"{'appId': 'x'}", "invalid JSON at line 1", id="single-quotes"),
        pytest.param(b"", "invalid JSON", id="empty"),
        pytest.param(b'{"bundle": {"size": NaN}}', "NaN is not a JSON value", id="nan"),
        pytest.param(b'{"appId": "a.b", "appId": "c.d"}', "duplicate key 'appId'", id="duplicate-key"),
        pytest.param(b"\xff\xfe{}", "not valid UTF-8", id="not-utf8"),
        pytest.param(b'{"appId": "\\ud800"}', "unpaired surrogate", id="lone-surrogate"),
        pytest.param(b"[" * 30000 + b"]" * 30000, "nested too deeply", id="too-deep"),
    ],
)
def test_invalid_json_is_refused_as_a_whole(raw: bytes, fragment: str) -> None:
    [problem] = problems_of(raw)
    assert problem.path == ""
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        pytest.param(json.dumps([SAMPLE]), "an array", id="array"),
        pytest.param('"com.parkservices.tenant"', "a string", id="string"),
        pytest.param("null", "null", id="null"),
        pytest.param("42", "an integer", id="number"),
    ],
)
def test_json_that_is_not_an_object_is_refused(raw: str, kind: str) -> None:
    assert problems_of(raw) == [Problem("", f"a manifest must be a JSON object, not {kind}")]


def test_mapping_that_is_not_json_is_refused() -> None:
    [problem] = problems_of(replaced("/bundle/size", float("nan")))
    assert problem.path == ""
    assert "not representable as JSON" in problem.message


def test_every_problem_is_reported_at_once_sorted_by_path() -> None:
    document = replaced("/version", "1.0")
    document["zzz"] = 1
    document["scopes"][1]["purpose"] = "no"
    document["networkDomains"][1] = "http://x.example.com"
    document["networkDomains"].append("*")
    document["bundle"]["size"] = 0

    problems = problems_of(document)

    assert [problem.path for problem in problems] == [
        "/bundle/size",
        "/networkDomains/1",
        "/networkDomains/2",
        "/scopes/1/purpose",
        "/version",
        "/zzz",
    ]


def test_error_text_lists_every_problem_with_its_path() -> None:
    document = replaced("/version", "1.0")
    del document["icons"]
    with pytest.raises(ManifestError) as caught:
        load_manifest(document)
    text = str(caught.value)
    assert text.startswith("manifest refused (2 problems):")
    assert "\n  /icons: required key 'icons' is missing" in text
    assert "\n  /version: '1.0' is not a semantic version" in text
    assert isinstance(caught.value, ValueError)


def test_document_problem_is_shown_as_the_document() -> None:
    assert str(Problem("", "invalid JSON")) == "(document): invalid JSON"


def test_long_values_are_shortened_in_messages() -> None:
    [problem] = problems_of(replaced("/bridgeApis/0/api", "x" * 1000))
    assert len(problem.message) < 300


# --- the schema file itself -------------------------------------------------


def _subschemas(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        found.append(schema)
        for value in schema.values():
            found += _subschemas(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _subschemas(value)
    return found


def test_schema_is_draft_2020_12_with_an_id() -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/miniprogram-manifest.schema.json")


def test_schema_closes_every_object() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    objects = [sub for sub in _subschemas(schema) if sub.get("type") == "object"]
    assert objects
    for sub in objects:
        # Records refuse unknown keys; maps (names, icons) constrain their keys with propertyNames.
        assert sub.get("additionalProperties") is False or "propertyNames" in sub, sub


def test_schema_describes_every_pattern_so_messages_read_well() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    for sub in _subschemas(schema):
        if "pattern" in sub:
            assert sub.get("description", "").startswith(("a ", "an ")), sub["pattern"]


@pytest.mark.parametrize(
    "version",
    ["0.0.4", "1.2.3", "10.20.30", "1.0.0-alpha.beta.1", "1.0.0-0A.is.legal", "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
     "1.0", "1.2.3.4", "01.1.1", "1.2.3-0123", "1.2.3-beta..1", "+invalid", "1.2.3-+", "1.0.0\n"],
)  # fmt: skip
def test_python_and_schema_agree_on_what_a_version_is(version: str) -> None:
    try:
        parse_version(version)
    except ValueError:
        python_accepts = False
    else:
        python_accepts = True
    try:
        load_manifest(replaced("/version", version))
    except ManifestError:
        schema_accepts = False
    else:
        schema_accepts = True
    assert python_accepts == schema_accepts


# --- SemVer precedence ------------------------------------------------------

ASCENDING = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "2.0.0",
    "10.0.0",
]


@pytest.mark.parametrize(("lower", "higher"), list(itertools.pairwise(ASCENDING)))
def test_versions_follow_semver_precedence(lower: str, higher: str) -> None:
    assert compare_versions(lower, higher) == -1
    assert compare_versions(higher, lower) == 1
    assert parse_version(lower) < parse_version(higher)


def test_sorting_by_version_key_gives_semver_order() -> None:
    assert sorted(reversed(ASCENDING), key=parse_version) == ASCENDING


def test_build_metadata_is_ignored_in_precedence() -> None:
    assert compare_versions("1.0.0+build.1", "1.0.0+build.2") == 0
    assert compare_versions("1.0.0-rc.1+a", "1.0.0-rc.1") == 0
    assert compare_versions("1.0.0", "1.0.0") == 0


def test_numeric_prerelease_identifiers_sort_before_alphanumeric_ones() -> None:
    assert compare_versions("1.0.0-1", "1.0.0-a") == -1
    assert compare_versions("1.0.0-2", "1.0.0-10") == -1


def test_manifest_version_key_orders_manifests() -> None:
    older = load_manifest(replaced("/version", "1.2.0-rc.1"))
    newer = load_manifest(SAMPLE)
    assert older.version_key < newer.version_key


def test_comparing_a_non_version_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"not a semantic version: 'v1\.0\.0'"):
        compare_versions("v1.0.0", "1.0.0")


# --- permission diff --------------------------------------------------------


def _with_scopes(*scopes: str, apis: tuple[str, ...] = ()) -> Manifest:
    document = replaced("/scopes", [{"scope": scope, "purpose": f"Need {scope}"} for scope in scopes])
    document["bridgeApis"] = [{"api": api, "purpose": f"Call {api}"} for api in apis]
    return load_manifest(document)


def test_adding_a_sensitive_scope_needs_a_second_review() -> None:
    diff = permission_diff(
        _with_scopes("profile.name"),
        _with_scopes("profile.name", "payments.initiate", apis=("payment.request",)),
    )
    assert diff.added_scopes == ("payments.initiate",)
    assert diff.added_bridge_apis == ("payment.request",)
    assert diff.needs_second_review
    assert diff.needs_new_consent


@pytest.mark.parametrize("scope", ["accounts.summary", "payments.initiate", "phone.masked"])
def test_each_sensitive_scope_triggers_a_second_review(scope: str) -> None:
    assert permission_diff(
        _with_scopes("profile.name"), _with_scopes("profile.name", scope)
    ).needs_second_review


def test_adding_only_non_sensitive_scopes_needs_no_second_review() -> None:
    diff = permission_diff(_with_scopes("profile.name"), _with_scopes("profile.name", "location.city"))
    assert diff.added_scopes == ("location.city",)
    assert not diff.needs_second_review
    assert diff.needs_new_consent


def test_keeping_a_sensitive_scope_needs_no_second_review() -> None:
    diff = permission_diff(_with_scopes("phone.masked"), _with_scopes("phone.masked"))
    assert diff.added_scopes == ()
    assert not diff.needs_second_review
    assert not diff.needs_new_consent


def test_removed_scopes_apis_and_domains_are_listed() -> None:
    old = load_manifest(SAMPLE)
    document = replaced("/networkDomains", ["https://api.parkservices.com", "https://maps.example.com"])
    document["scopes"] = [{"scope": "profile.name", "purpose": "Greet you by name"}]
    document["bridgeApis"] = [{"api": "user.info", "purpose": "Greet you by name"}]

    diff = permission_diff(old, load_manifest(document))

    assert diff.removed_scopes == ("payments.initiate",)
    assert diff.removed_bridge_apis == ("payment.request",)
    assert diff.added_network_domains == ("https://maps.example.com",)
    assert diff.removed_network_domains == ("https://*.cdn.parkservices.com:8443",)
    assert not diff.needs_second_review


def test_first_version_adds_everything_it_asks_for() -> None:
    diff = permission_diff(None, load_manifest(SAMPLE))
    assert diff.added_scopes == ("payments.initiate", "profile.name")
    assert diff.added_bridge_apis == ("payment.request", "user.info")
    assert diff.added_network_domains == (
        "https://*.cdn.parkservices.com:8443",
        "https://api.parkservices.com",
    )
    assert diff.removed_scopes == diff.removed_bridge_apis == diff.removed_network_domains == ()
    assert diff.needs_second_review
