"""The sandbox policy: a CSP built from the manifest, refusing anything that is not an https origin."""

from __future__ import annotations

import pytest

from bff.miniprograms.sandbox import bundle_response_headers, content_security_policy

BRIDGE = "https://bridge.bankapp.example"
HOSTS = ["https://app.bankapp.example"]


def test_policy_for_a_sample_manifest_is_exactly_as_specified() -> None:
    csp = content_security_policy(
        ["https://api.parkservices.example", "https://*.cdn.parkservices.example:8443"], BRIDGE, HOSTS
    )
    assert csp == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
        "connect-src https://bridge.bankapp.example https://api.parkservices.example "
        "https://*.cdn.parkservices.example:8443; "
        "frame-ancestors https://app.bankapp.example; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )


def test_mini_program_without_network_domains_reaches_only_the_bridge() -> None:
    csp = content_security_policy([], BRIDGE, HOSTS)
    assert f"connect-src {BRIDGE};" in csp


def test_repeated_domains_appear_once() -> None:
    domain = "https://api.parkservices.example"
    csp = content_security_policy([domain, domain], BRIDGE, HOSTS)
    assert csp.count(domain) == 1


def test_no_host_origins_means_no_framing_at_all() -> None:
    assert "frame-ancestors 'none'" in content_security_policy([], BRIDGE, [])


@pytest.mark.parametrize(
    "domain",
    [
        "http://api.parkservices.example",
        "api.parkservices.example",
        "https://api.parkservices.example/path",
        "https://api.parkservices.example; script-src *",
        "https://user@api.parkservices.example",
        "https://API.parkservices.example",
        "https://*",
        "https://*.example",
        "*",
        "data:",
        "'unsafe-inline'",
        "https://api.parkservices.example\n",
    ],
)
def test_network_domain_that_is_not_an_https_origin_is_refused(domain: str) -> None:
    with pytest.raises(ValueError, match="not an https origin"):
        content_security_policy([domain], BRIDGE, HOSTS)


@pytest.mark.parametrize("origin", ["https://app.example; script-src *", "ftp://app.example", "*"])
def test_host_origin_that_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="host origin"):
        content_security_policy([], BRIDGE, [origin])


def test_loopback_http_bridge_is_allowed_for_development() -> None:
    csp = content_security_policy([], "http://localhost:8000", ["http://127.0.0.1:8000"])
    assert "connect-src http://localhost:8000;" in csp


def test_bundle_responses_carry_the_sandbox_headers() -> None:
    headers = bundle_response_headers("default-src 'none'")
    assert headers == {
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Referrer-Policy": "no-referrer",
    }
