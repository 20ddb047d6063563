"""The `bff` command: thin, calls into the domains."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from bff.loadtest import command as loadtest
from bff.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sim"]:
        # The simulators are a separate program; the BFF never imports them.
        os.execv(sys.executable, [sys.executable, "-m", "sim", *args[1:]])
    parser = _parser()
    parsed = parser.parse_args(args)
    if parsed.command is None:
        parser.print_help()
        return 2
    settings = Settings()
    if parsed.command == "serve":
        return _serve(settings)
    if parsed.command == "register-documents":
        return _register_documents(settings, Path(parsed.path))
    if parsed.command == "demo":
        from bff.demo import run_demo

        return run_demo(settings, Path(parsed.workdir))
    if parsed.command == "token":
        return _token(parsed, settings)
    if parsed.command == "schema":
        return _schema(parsed)
    if parsed.command == "miniprogram":
        from bff.miniprograms.partner_cli import run

        return run(parsed)
    if parsed.command == "loadtest":
        return loadtest.run(parsed)
    if parsed.command == "experience":
        from bff.experience.experience_cli import run as run_experience

        return run_experience(parsed)
    parser.error(f"unknown command {parsed.command}")
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bff", description="The bank super-app's backend-for-frontend.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the BFF (configured by BFF_* environment variables)")
    demo = commands.add_parser("demo", help="run Redis, the simulators and the BFF together")
    demo.add_argument("--workdir", default="var/demo", help="where logs and the private Redis live")
    commands.add_parser("sim", help="run the simulated bank services (see `bff sim --help`)")
    token = commands.add_parser("token", help="mint a development access token from the demo issuer")
    token.add_argument("--subject", default="RCB001-00042", help="customer id (or employee id)")
    token.add_argument("--member-bank", help="defaults to the customer id's prefix, e.g. RCB001")
    token.add_argument("--role", action="append", choices=["customer", "employee", "partner", "admin"])
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--alg", choices=["ES256", "RS256"], default="ES256")
    token.add_argument("--issuer-dir", default="var/demo/issuer", help="the demo issuer's key directory")
    register = commands.add_parser(
        "register-documents", help="register trusted GraphQL documents (.graphql or Apollo manifest) in Redis"
    )
    register.add_argument(
        "path", help="a .graphql file of named operations or a persisted-query manifest (.json)"
    )
    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--write", metavar="FILE", help="write it to FILE instead, e.g. schemas/bff.graphql")
    _miniprogram_parser(commands)
    _experience_parser(commands)
    loadtest.add_parser(commands)
    return parser


def _miniprogram_parser(commands: Any) -> None:
    group = commands.add_parser(
        "miniprogram", help="partner tools: validate, sign and publish a mini-program"
    )
    partner = group.add_subparsers(dest="miniprogram_command", required=True)
    validate = partner.add_parser("validate", help="check manifest.json and the bundle; exit 2 on problems")
    validate.add_argument("dir", help="a folder with manifest.json and bundle/ (or bundle.zip)")
    validate.add_argument("--write", action="store_true", help="set bundle.sha256 and bundle.size in it")
    sign = partner.add_parser("sign", help="write manifest.jws, the partner's signature of manifest.json")
    sign.add_argument("dir")
    sign.add_argument("--key", required=True, help="the private key written by `keygen`")
    sign.add_argument("--kid", help="the registered key id (defaults to the key's own kid)")
    keygen = partner.add_parser("keygen", help="write a private signing key; print its public JWK")
    keygen.add_argument("--out", required=True, help="where to write the private key (mode 0600)")
    keygen.add_argument("--kid", required=True)
    keygen.add_argument("--alg", choices=["Ed25519", "ES256"], default="Ed25519")
    keygen.add_argument("--force", action="store_true", help="replace an existing key file")
    publish = partner.add_parser("publish", help="upload a signed version and submit it for review")
    publish.add_argument("dir")
    status = partner.add_parser("status", help="an app's versions and release")
    status.add_argument("app_id")
    for command in (publish, status):
        command.add_argument("--api", default="http://127.0.0.1:8000", help="the BFF's base URL")
        command.add_argument("--token", help="a partner access token (default: $BFF_PARTNER_TOKEN)")


def _experience_parser(commands: Any) -> None:
    group = commands.add_parser("experience", help="UX tools: validate, diff, publish, roll back, preview")
    tools = group.add_subparsers(dest="experience_command", required=True)
    validate = tools.add_parser("validate", help="check an experience directory offline; exit 2 on problems")
    diff = tools.add_parser("diff", help="what publishing the directory would change")
    publish = tools.add_parser("publish", help="publish the directory as a new version")
    for command in (validate, diff, publish):
        command.add_argument("dir", nargs="?", default="experience", help="default: experience")
    publish.add_argument("--note", default="", help="why, for the history")
    rollback = tools.add_parser("rollback", help="republish an earlier version as a new one")
    rollback.add_argument("version", type=int, help="the earlier version to bring back")
    rollback.add_argument("--note", default="", help="why, for the history")
    preview = tools.add_parser("preview", help="the home screen a sample customer of a segment rule sees")
    preview.add_argument("segment", help="a segment rule id, such as elder-60-plus")
    preview.add_argument("--customer", help="the sample customer's id")
    preview.add_argument("--app-version", help="the app version to preview, such as 5.8.0")
    for command in (diff, publish, rollback, preview):
        command.add_argument("--api", default="http://127.0.0.1:8000", help="the BFF's base URL")
        command.add_argument("--token", help="an admin access token (default: $BFF_ADMIN_TOKEN)")


def _serve(settings: Settings) -> int:
    from bff.app import ConfigurationError, create_app
    from bff.logging_setup import configure_logging

    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"bff serve: {exc}", file=sys.stderr)
        return 2
    run_server(app, settings)
    return 0


def run_server(app: Any, settings: Settings) -> None:
    """uvicorn on uvloop with the C HTTP parser (httptools: far cheaper per request than h11)."""
    # Everything built so far (modules, the schema, the app) lives as long as the process: out
    # of the collector's sight, full collections no longer walk it, which cut the home screen's
    # p99 by about a third under load (docs/performance.md).
    gc.collect()
    gc.freeze()
    # uvicorn's own logging config would replace the JSON handler; the endpoint logs each operation.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )


def _register_documents(settings: Settings, path: Path) -> int:
    import asyncio

    import redis.asyncio as aioredis

    from bff.graphql.persisted import register_documents

    async def run() -> int:
        redis = aioredis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
        try:
            registration = await register_documents(redis, path)
        finally:
            await redis.aclose()
        for document in registration.documents:
            print(f"{document.sha256}  {document.name}")
        print(f"registered {registration.total} documents ({registration.added} new) from {path}")
        return 0

    try:
        return asyncio.run(run())
    except (ValueError, OSError) as exc:
        print(f"bff register-documents: {exc}", file=sys.stderr)
        return 2


def _token(parsed: argparse.Namespace, settings: Settings) -> int:
    from bff.auth.dev_issuer import DevIssuer

    if settings.environment == "production":
        print("bff token: development tokens are refused in production", file=sys.stderr)
        return 2
    bank = parsed.member_bank or parsed.subject.partition("-")[0]
    issuer = DevIssuer(Path(parsed.issuer_dir), settings.auth_issuer, settings.auth_audience)
    roles = parsed.role or ["customer"]
    print(issuer.mint(parsed.subject, bank, roles, ttl_s=parsed.ttl, alg=parsed.alg))
    return 0


def _schema(parsed: argparse.Namespace) -> int:
    from bff.graphql.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if parsed.write:
        Path(parsed.write).write_text(sdl)
        print(f"wrote {parsed.write}", file=sys.stderr)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
