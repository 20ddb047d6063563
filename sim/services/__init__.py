"""The simulated services, in port order (see sim/server.py)."""

from __future__ import annotations

from sim.accounts import Accounts
from sim.framework import SimService
from sim.ledger import Ledger
from sim.population import Population
from sim.services.cards import CardsService
from sim.services.content import ContentService
from sim.services.core_banking import CoreBankingService
from sim.services.crm import CrmService
from sim.services.loans import LoansService
from sim.services.messages import MessagesService
from sim.services.payments import PaymentsService
from sim.services.wealth import WealthService


def build_services(population: Population) -> list[SimService]:
    """One instance per service, shared by its two data centres (same data, like replication).

    The order fixes the port layout and must match bff/channels/services.toml.
    """
    accounts = Accounts(population)
    ledger = Ledger()
    return [
        CoreBankingService(population, accounts, ledger),
        CardsService(population, accounts, ledger),
        LoansService(population, accounts, ledger),
        WealthService(population, accounts, ledger),
        PaymentsService(population, accounts, ledger),
        ContentService(population, accounts, ledger),
        MessagesService(population, accounts, ledger),
        CrmService(population),
    ]
