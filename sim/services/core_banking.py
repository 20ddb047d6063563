"""Placeholder: replaced by the real simulator of core_banking."""

from __future__ import annotations

from aiohttp import web

from sim.accounts import Accounts
from sim.ledger import Ledger
from sim.population import Population


class CoreBankingService:
    name = "core_banking"
    required_scope: str | None = None

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.accounts = accounts
        self.ledger = ledger

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"error": {"code": code, "message": message}}, status=status)

    def add_routes(self, app: web.Application) -> None:
        return None
