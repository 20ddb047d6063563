"""Customer profile / CRM: the attributes customer segments are built on.

Wire style: JSON, camelCase, errors as {"error": {"code", "message"}}; the
caller's member bank travels in the X-Member-Bank header and scopes every read.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sim.population import Customer, Population

MAX_BATCH = 100


class CrmService:
    name = "crm"
    required_scope: str | None = "crm.read"

    def __init__(self, population: Population) -> None:
        self.population = population

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"error": {"code": code, "message": message}}, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/customers/{customer_id}", self.get_customer)
        app.router.add_post("/v1/customers:batchGet", self.batch_get)

    def _visible(self, customer_id: str, member_bank: str) -> Customer | None:
        found = self.population.customer(customer_id)
        return found if found is not None and found.member_bank == member_bank else None

    async def get_customer(self, request: web.Request) -> web.Response:
        bank = request.headers.get("X-Member-Bank", "")
        if not bank:
            return self.error_response(400, "MEMBER_BANK_REQUIRED", "send X-Member-Bank")
        found = self._visible(request.match_info["customer_id"], bank)
        if found is None:
            return self.error_response(404, "CUSTOMER_NOT_FOUND", "no such customer in this member bank")
        return web.json_response(_wire(found))

    async def batch_get(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            bank = str(body["memberBank"])
            ids = [str(i) for i in body["ids"]]
        except (ValueError, KeyError, TypeError):
            return self.error_response(400, "BAD_REQUEST", "expected {memberBank, ids: [...]}")
        if len(ids) > MAX_BATCH:
            return self.error_response(400, "BATCH_TOO_LARGE", f"at most {MAX_BATCH} ids")
        customers, missing = [], []
        for cid in ids:
            found = self._visible(cid, bank)
            if found is None:
                missing.append(cid)
            else:
                customers.append(_wire(found))
        return web.json_response({"customers": customers, "notFound": missing})


def _wire(c: Customer) -> dict[str, Any]:
    return {
        "customerId": c.customer_id,
        "memberBank": c.member_bank,
        "fullName": c.name,
        "age": c.age,
        "regionType": c.region_type.upper(),
        "assetsTier": c.assets_tier.upper(),
        "preferredLanguage": c.preferred_language,
        "mobile": c.phone,
        "customerSince": c.customer_since.isoformat(),
    }
