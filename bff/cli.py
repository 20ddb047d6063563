"""The `bff` command: thin, calls into the domains."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

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
        from bff.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
        return 0
    if parsed.command == "demo":
        from bff.demo import run_demo

        return run_demo(settings, Path(parsed.workdir))
    if parsed.command == "token":
        return _token(parsed, settings)
    if parsed.command == "schema":
        return _schema(parsed)
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
    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--write", metavar="FILE", help="write it to FILE instead, e.g. schemas/bff.graphql")
    return parser


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
