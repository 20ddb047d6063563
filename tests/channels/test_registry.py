from pathlib import Path

import pytest

from bff.channels.registry import RegistryError, load_registry, parse_registry


def test_packaged_registry_lists_every_service_in_two_data_centres() -> None:
    registry = load_registry()
    expected = {"core_banking", "cards", "loans", "wealth", "payments", "content", "messages", "crm"}
    assert set(registry.services) == expected
    for spec in registry.services.values():
        assert [dc.name for dc in spec.data_centres] == ["dc-a", "dc-b"]
        assert spec.timeout_ms > 0
        assert spec.deadline_ms >= spec.timeout_ms
    assert registry["core_banking"].wire_format == "xml"
    assert registry["payments"].auth is not None


def test_endpoints_file_overrides_urls_and_token_url(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(
        '{"services": {"cards": {"dc-b": "http://127.0.0.1:9"}}, "oauth_token_url": "http://127.0.0.1:8/t"}'
    )
    registry = load_registry(endpoints_file=endpoints)
    assert registry["cards"].data_centre("dc-b").url == "http://127.0.0.1:9"
    assert registry["cards"].auth is not None
    assert registry["cards"].auth.token_url == "http://127.0.0.1:8/t"
    assert registry["cards"].data_centre("dc-a").url.startswith("http://127.0.0.1:187")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "[services] must list"),
        ({"services": {"x": {"data_centres": []}}}, "services.x.data_centres"),
        ({"services": {"x": {"data_centres": [{"url": "http://a"}]}}}, "missing key 'name'"),
        (
            {"services": {"x": {"wire_format": "soap", "data_centres": [{"name": "a", "url": "u"}]}}},
            "wire_format",
        ),
        ({"services": {"x": {"data_centres": [{"name": "a", "url": "u", "weight": 0}]}}}, "weights"),
        ({"services": {"x": {"retry": {"tries": 2}, "data_centres": [{"name": "a", "url": "u"}]}}}, "tries"),
    ],
)
def test_malformed_registry_names_the_offending_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_registry(raw)
