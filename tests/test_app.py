"""The app factory refuses settings that cannot work, saying what to set."""

import pytest

from bff.app import ConfigurationError, create_app
from bff.settings import Settings


def test_production_without_identity_provider_keys_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="BFF_AUTH_JWKS_URL"):
        create_app(Settings(environment="production", auth_jwks_url=None, auth_jwks_file=None))


def test_settings_read_redis_url_from_the_usual_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/3")
    assert Settings().redis_url == "redis://127.0.0.1:1/3"
