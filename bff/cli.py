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
    parser.error(f"unknown command {parsed.command}")
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bff", description="The bank super-app's backend-for-frontend.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the BFF (configured by BFF_* environment variables)")
    demo = commands.add_parser("demo", help="run Redis, the simulators and the BFF together")
    demo.add_argument("--workdir", default="var/demo", help="where logs and the private Redis live")
    commands.add_parser("sim", help="run the simulated bank services (see `bff sim --help`)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
