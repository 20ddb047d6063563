"""Declarative registry of downstream services: where they live and how to call them.

The registry is data (a TOML file, `services.toml` by default) so that
operations can change weights, timeouts or thresholds without a code change.
An endpoints file (as written by `bff sim --topology-file`) may override the
base URLs, which is how tests and the demo point the BFF at simulators on
ephemeral ports.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

WireFormat = Literal["json", "xml"]


class RegistryError(ValueError):
    """The registry file is malformed; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class DataCentre:
    name: str
    url: str
    weight: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries apply only to idempotent calls, and only while the budget allows."""

    attempts: int = 3
    backoff_ms: float = 10.0
    max_backoff_ms: float = 200.0
    # Retry budget (after Finagle): each call deposits `budget_ratio` tokens;
    # a retry costs one; `budget_min_per_second` keeps low traffic retryable.
    budget_ratio: float = 0.2
    budget_min_per_second: float = 10.0


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    open_ms: float = 1000.0
    half_open_probes: int = 1


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4)."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    wire_format: WireFormat
    data_centres: tuple[DataCentre, ...]
    timeout_ms: float = 1000.0
    deadline_ms: float = 2500.0
    concurrency: int = 64
    queue_timeout_ms: float = 100.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    auth: ClientCredentials | None = None

    def data_centre(self, name: str) -> DataCentre:
        for dc in self.data_centres:
            if dc.name == name:
                return dc
        raise KeyError(f"{self.name} has no data centre {name!r}")


@dataclass(frozen=True, slots=True)
class Registry:
    services: Mapping[str, ServiceSpec]

    def __getitem__(self, name: str) -> ServiceSpec:
        try:
            return self.services[name]
        except KeyError:
            raise KeyError(f"unknown downstream service {name!r}") from None

    def with_endpoints(self, endpoints: Mapping[str, Any]) -> Registry:
        """Return a copy whose base URLs (and token URL) come from `endpoints`.

        `endpoints` has the shape the simulator writes:
        {"services": {name: {dc: url}}, "oauth_token_url": url}.
        """
        urls: Mapping[str, Mapping[str, str]] = endpoints.get("services", {})
        token_url: str | None = endpoints.get("oauth_token_url")
        updated: dict[str, ServiceSpec] = {}
        for name, spec in self.services.items():
            dcs = tuple(replace(dc, url=urls.get(name, {}).get(dc.name, dc.url)) for dc in spec.data_centres)
            auth = spec.auth
            if auth is not None and token_url:
                auth = replace(auth, token_url=token_url)
            updated[name] = replace(spec, data_centres=dcs, auth=auth)
        return Registry(updated)


def load_registry(path: Path | None = None, endpoints_file: Path | None = None) -> Registry:
    """Read the registry TOML (the packaged default when `path` is None)."""
    if path is None:
        text = resources.files("bff.channels").joinpath("services.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"channel registry is not valid TOML: {exc}") from exc
    registry = parse_registry(raw)
    if endpoints_file is not None:
        registry = registry.with_endpoints(json.loads(endpoints_file.read_text("utf-8")))
    return registry


def parse_registry(raw: Mapping[str, Any]) -> Registry:
    defaults = raw.get("defaults", {})
    services = raw.get("services")
    if not isinstance(services, Mapping) or not services:
        raise RegistryError("channel registry: [services] must list at least one service")
    return Registry({name: _parse_service(name, {**defaults, **body}) for name, body in services.items()})


def _parse_service(name: str, body: Mapping[str, Any]) -> ServiceSpec:
    where = f"services.{name}"
    dcs_raw = body.get("data_centres")
    if not isinstance(dcs_raw, list) or not dcs_raw:
        raise RegistryError(f"{where}.data_centres: list at least one data centre")
    dcs = tuple(_parse_dc(f"{where}.data_centres[{i}]", dc) for i, dc in enumerate(dcs_raw))
    if sum(dc.weight for dc in dcs) <= 0:
        raise RegistryError(f"{where}.data_centres: weights must add up to more than 0")
    wire = body.get("wire_format", "json")
    if wire not in ("json", "xml"):
        raise RegistryError(f"{where}.wire_format: expected 'json' or 'xml', got {wire!r}")
    auth_raw = body.get("auth")
    try:
        return ServiceSpec(
            name=name,
            wire_format=wire,
            data_centres=dcs,
            timeout_ms=float(body.get("timeout_ms", 1000)),
            deadline_ms=float(body.get("deadline_ms", 2500)),
            concurrency=int(body.get("concurrency", 64)),
            queue_timeout_ms=float(body.get("queue_timeout_ms", 100)),
            retry=RetryPolicy(**body.get("retry", {})),
            breaker=BreakerPolicy(**body.get("breaker", {})),
            auth=ClientCredentials(**auth_raw) if auth_raw else None,
        )
    except TypeError as exc:
        raise RegistryError(f"{where}: {exc}") from exc


def _parse_dc(where: str, raw: Any) -> DataCentre:
    if not isinstance(raw, Mapping):
        raise RegistryError(f"{where}: expected a table with name, url and weight")
    try:
        dc = DataCentre(
            name=str(raw["name"]), url=str(raw["url"]).rstrip("/"), weight=int(raw.get("weight", 1))
        )
    except KeyError as exc:
        raise RegistryError(f"{where}: missing key {exc.args[0]!r}") from exc
    if dc.weight < 0:
        raise RegistryError(f"{where}.weight: must not be negative")
    return dc
