"""The app factory: routes and lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from bff.auth.dev_issuer import DevIssuer
from bff.auth.keys import JwksSource
from bff.auth.validator import TokenValidator
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.channels.metrics import ChannelMetrics
from bff.channels.registry import load_registry
from bff.experience.assembly import ExperienceParts, build_experience
from bff.experience.console_page import console_routes
from bff.experience.home_screens import HomeScreens
from bff.experience.preferences import PreferenceStore
from bff.experience.previews import preview_source
from bff.graphql.context import context_factory
from bff.graphql.engine import GraphQLEngine
from bff.graphql.http import graphql_routes
from bff.graphql.limits import Limits
from bff.graphql.persisted import DocumentStore
from bff.graphql.schema import build_schema
from bff.graphql.websocket import websocket_routes
from bff.health import healthz, metrics, readyz
from bff.journeys.connection import journey_redis
from bff.journeys.definitions import load_definitions
from bff.journeys.durability import require_durable
from bff.journeys.services import JourneyServices
from bff.miniprograms.assembly import HostSecretsMissing, build_miniprograms
from bff.settings import Settings
from bff.store.client import RedisClient
from bff.store.pool import pooled_redis

DEV_ISSUER_DIR = Path("var/demo/issuer")


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ConfigurationError(RuntimeError):
    """Settings that cannot work together; the message says which to set."""


def create_app(settings: Settings) -> Starlette:
    """Build the BFF from `settings`; connections open in the lifespan, not here."""
    registry = load_registry(settings.channels_file, settings.channel_endpoints)
    metrics_registry = CollectorRegistry()
    # from_url and the client constructor do no I/O; connections open on first use.
    redis = pooled_redis(
        settings.redis_url or DEFAULT_REDIS_URL, max_connections=settings.redis_max_connections
    )
    client = ChannelClient(registry, metrics=ChannelMetrics(metrics_registry))
    channels = Channels.over(client)
    jwks = _jwks_source(settings)
    validator = TokenValidator(jwks, settings.auth_issuer, settings.auth_audience, settings.auth_leeway_s)
    jwks.on_change(validator.forget)
    try:
        miniprograms = build_miniprograms(settings, redis, validator, channels.crm.profile)
    except HostSecretsMissing as exc:
        raise ConfigurationError(str(exc)) from None
    experience, home_screens = _experience(settings, redis, validator, channels)
    journey_client = journey_redis(
        settings.journeys_redis_url or settings.redis_url or DEFAULT_REDIS_URL,
        cluster=settings.journeys_redis_cluster,
    )
    journeys = JourneyServices.over(journey_client, load_definitions())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await jwks.load()
        jwks.start_refreshing()
        await client.start()
        await miniprograms.start()
        await experience.start()
        if settings.journeys_durability_required:
            # An acknowledged transition must be on disk; refuse to start on a Redis that would lose it.
            await require_durable(journey_client)
        try:
            yield
        finally:
            await experience.stop()
            await journey_client.aclose()
            await miniprograms.stop()
            await jwks.stop()
            await client.close()
            await redis.aclose()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    engine = _engine(settings)
    contexts = context_factory(validator, channels, miniprograms.host, home_screens, journeys)
    routes += graphql_routes(
        engine,
        DocumentStore(
            redis, trusted_only=settings.graphql_trusted_documents, apq_ttl_s=settings.graphql_apq_ttl_s
        ),
        contexts,
        metrics_registry=metrics_registry,
        max_body_bytes=settings.graphql_max_body_bytes,
        batching=settings.graphql_batching,
        request_budget_s=settings.graphql_request_budget_ms / 1000,
    )
    # Subscriptions: graphql-transport-ws on the same path (a WebSocket route matches no HTTP request).
    routes += websocket_routes(engine, contexts)
    routes += miniprograms.routes
    routes += experience.routes
    routes += console_routes()
    app = Starlette(debug=settings.development, routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics_registry = metrics_registry
    app.state.redis = redis
    app.state.channels = client
    return app


def _engine(settings: Settings) -> GraphQLEngine:
    limits = Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
        max_tokens=settings.graphql_max_tokens,
        max_batch=settings.graphql_max_batch,
        default_list_size=settings.graphql_default_list_size,
    )
    return GraphQLEngine(
        build_schema(),
        development=settings.development,
        cache_size=settings.graphql_document_cache_size,
        limits=limits,
    )


def _experience(
    settings: Settings, redis: RedisClient, validator: TokenValidator, channels: Channels
) -> tuple[ExperienceParts, HomeScreens]:
    """The live experience and the home screens over it; previews are home screens of sample customers."""

    # The admin API needs its preview source before the home screens exist (they read its live set).
    async def preview(rule_id: str, customer_id: str | None, app_version: str | None) -> dict[str, Any]:
        return await previews(rule_id, customer_id, app_version)

    parts = build_experience(settings, redis, validator, preview)
    screens = HomeScreens(parts.live, PreferenceStore(redis), channels)
    previews = preview_source(screens)
    return parts, screens


def _jwks_source(settings: Settings) -> JwksSource:
    if settings.auth_jwks_url:
        return JwksSource(url=settings.auth_jwks_url)
    if settings.auth_jwks_file:
        return JwksSource(file=settings.auth_jwks_file)
    if settings.development:
        # Development without an identity provider: trust the demo issuer's keys.
        issuer = DevIssuer(DEV_ISSUER_DIR, settings.auth_issuer, settings.auth_audience)
        return JwksSource(file=issuer.write_public_jwks(DEV_ISSUER_DIR / "jwks.json"))
    raise ConfigurationError("set BFF_AUTH_JWKS_URL (or BFF_AUTH_JWKS_FILE) to the identity provider's keys")
