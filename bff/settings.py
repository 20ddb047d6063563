"""One typed settings object, read from the environment once (prefix BFF_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", frozen=True, extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # REDIS_URL is the name every platform uses; BFF_REDIS_URL also works.
    redis_url: str | None = Field(None, validation_alias=AliasChoices("BFF_REDIS_URL", "REDIS_URL"))
    # Connections per process; a request waits up to 2 s for a free one rather than failing at once.
    redis_max_connections: int = Field(200, ge=1, le=10_000)
    # The downstream registry (TOML); None means the packaged default.
    channels_file: Path | None = None
    # Base URLs written by `bff sim --topology-file`, overriding the registry's.
    channel_endpoints: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Access tokens: issuer, audience and where the issuer's public keys are.
    auth_issuer: str = "https://issuer.dev.bff.local"
    auth_audience: str = "bff"
    auth_jwks_url: str | None = None
    auth_jwks_file: Path | None = None
    auth_leeway_s: int = Field(30, ge=0, le=300)

    # Mini-program host: where bundles are served, who may frame them, and the host's secrets.
    public_url: str = "http://127.0.0.1:8000"
    miniprogram_host_origins: tuple[str, ...] = ("http://127.0.0.1:8000",)
    bridge_issuer: str = "https://bff.dev.local/miniprogram"
    bridge_signing_key_file: Path | None = None
    miniprogram_bundle_dir: Path = Path("var/bundles")
    # The 10 MB bundle limit plus room for the manifest, signature and multipart framing.
    partner_max_upload_bytes: int = 11_048_576
    pairwise_secret_file: Path | None = None
    # A release halts by itself when its new version's bridge calls fail this often (a fraction),
    # over this many seconds across every BFF process, once it has at least this many calls.
    miniprogram_halt_error_rate: float = Field(0.2, gt=0.0, le=1.0)
    miniprogram_halt_min_calls: int = Field(50, ge=1)
    miniprogram_halt_window_s: int = Field(60, ge=10, le=3600)
    # The partner simulator page (/miniprogram/simulator); None: on in development only.
    miniprogram_simulator: bool | None = None

    # Experience profiles: the directory version 1 is seeded from when Redis has none; None: the shipped one.
    experience_dir: Path | None = None

    # GraphQL limits; each refused with a clear error and code. None switches one off.
    graphql_max_depth: int | None = 12
    graphql_max_aliases: int | None = 30
    graphql_max_cost: int | None = 20_000
    graphql_max_tokens: int | None = 5_000
    graphql_max_batch: int = 10
    graphql_default_list_size: int = 10
    graphql_batching: bool = True
    graphql_max_body_bytes: int = 1_000_000
    # No downstream call outlives this: slow services' fields come back null in time.
    graphql_request_budget_ms: int = Field(4_000, ge=100)
    graphql_document_cache_size: int = 1_000
    # Production runs trusted documents only: nothing executes unless registered.
    graphql_trusted_documents: bool = False
    graphql_apq_ttl_s: int = 7 * 24 * 3600

    # Journeys: their own Redis (default: REDIS_URL), which must persist every write (AOF,
    # appendfsync always) unless this is off; None: required in production only.
    journeys_redis_url: str | None = None
    journeys_redis_cluster: bool = False
    journeys_require_durable: bool | None = None

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def journeys_durability_required(self) -> bool:
        return (
            not self.development if self.journeys_require_durable is None else self.journeys_require_durable
        )

    @property
    def simulator_enabled(self) -> bool:
        return self.development if self.miniprogram_simulator is None else self.miniprogram_simulator
