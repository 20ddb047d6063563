"""Who is calling: the identity every resolver and downstream call is scoped to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bff.channels.models import CustomerScope


class Role(StrEnum):
    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    member_bank: str
    roles: frozenset[Role]
    scopes: frozenset[str]
    token_id: str | None
    expires_at: float

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def customer_scope(self) -> CustomerScope | None:
        """The customer whose data this principal reads, if it is a customer."""
        if Role.CUSTOMER not in self.roles:
            return None
        return CustomerScope(self.subject, self.member_bank)
