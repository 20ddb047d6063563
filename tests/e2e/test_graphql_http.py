"""The GraphQL endpoint over real HTTP: one `bff serve` process in production mode over the simulators.

What a client of the super-app sees: a home screen from seven services in one
request, one downstream call per service, partial results when a service is
down or slow, ids that never reach another customer's data, the GraphQL over
HTTP rules, and the metrics an operator scrapes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.bff_process import breaker_states
from tests.support.graphql_http import (
    CUSTOMER_B,
    HOME_QUERY,
    JSON,
    OTHER_BANK_CUSTOMER,
    BffClient,
    downstream_calls,
    only_error,
)
from tests.support.sim_control import SimControl

WEALTH_LATENCY_S = 5.0  # well past wealth's 2.5 s deadline in services.toml
SERVER_TIMING = re.compile(
    r'(?:^|, )downstream;dur=(?P<slowest>[0-9.]+);desc="slowest of (?P<calls>\d+) calls"'
)
OWN_ACCOUNTS = "query OwnAccounts { me { accounts { id name maskedNumber } } }"


def answered(response: httpx.Response) -> dict[str, Any]:
    """The body of a 200 response that carries data (possibly with errors)."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["data"] is not None, body
    return body


# --- the home screen -------------------------------------------------------------------------


def test_home_screen_brings_seven_services_in_one_request_with_timing_and_request_id(
    bff: BffClient,
) -> None:
    response = bff.post(
        {"query": HOME_QUERY, "operationName": "HomeScreen"}, headers={"X-Request-ID": "e2e-home-1"}
    )
    body = answered(response)
    assert "errors" not in body, body["errors"]
    me = body["data"]["me"]
    fed_by = {
        "crm": me["profile"]["name"],
        "core_banking": me["accounts"] and me["accounts"][0]["balance"]["currency"] == "CNY",
        "cards": me["cards"] and me["cards"][0]["maskedNumber"],
        "loans": me["loans"]["totalCount"] is not None,
        "wealth": me["wealth"]["total"]["amount"],
        "messages": isinstance(me["unreadMessageCount"], int),
        "content": len(body["data"]["contentFeed"]["nodes"]) == 6,
    }
    assert all(fed_by.values()), fed_by
    assert response.headers["X-Request-ID"] == "e2e-home-1"
    timing = SERVER_TIMING.search(response.headers["Server-Timing"])
    assert timing is not None, response.headers["Server-Timing"]
    assert int(timing["calls"]) >= 7
    assert float(timing["slowest"]) > 0


def test_request_without_request_id_gets_a_fresh_one(bff: BffClient) -> None:
    first, second = bff.home(), bff.home()
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids


# --- one downstream call per service (DataLoaders) -------------------------------------------


def test_home_screen_costs_exactly_one_call_per_service(bff: BffClient, sim_control: SimControl) -> None:
    bff.home()  # OAuth tokens and pooled connections are in place, as in steady state
    sim_control.reset_stats()
    body = answered(bff.home())
    assert "errors" not in body
    assert downstream_calls(sim_control) == {
        "core_banking": 1,
        "crm": 1,
        "cards": 1,
        "loans": 1,
        "wealth": 1,
        "messages": 1,
        "content": 1,
    }


def test_accounts_three_times_by_alias_and_two_account_nodes_cost_one_core_banking_call(
    bff: BffClient, sim_control: SimControl
) -> None:
    accounts = bff.data(OWN_ACCOUNTS)["me"]["accounts"]
    assert len(accounts) >= 2
    first, second = accounts[0]["id"], accounts[1]["id"]
    query = """
    query Accounts($first: ID!, $second: ID!) {
      me {
        a: accounts { id }
        b: accounts { name kind }
        c: accounts { balance { amount currency } }
      }
      one: node(id: $first) { id ... on Account { name } }
      two: node(id: $second) { id ... on Account { available { amount } } }
    }
    """
    sim_control.reset_stats()
    data = bff.data(query, first=first, second=second)
    assert [a["id"] for a in data["me"]["a"]] == [a["id"] for a in accounts]
    assert len(data["me"]["b"]) == len(data["me"]["c"]) == len(accounts)
    assert (data["one"]["id"], data["two"]["id"]) == (first, second)
    assert downstream_calls(sim_control) == {"core_banking": 1}


def test_fields_left_out_by_skip_or_include_cost_no_downstream_call(
    bff: BffClient, sim_control: SimControl
) -> None:
    under_me = """
    query Lean($withMore: Boolean!) {
      me {
        profile { name }
        cards @include(if: $withMore) { id }
        wealth @skip(if: true) { asOf }
        ... @include(if: $withMore) { accounts { id } }
        ...Inbox @skip(if: true)
      }
    }
    fragment Inbox on Customer { unreadMessageCount messageThreads { id } }
    """
    at_root = "query NoMe { me @skip(if: true) { cards { id } } contentFeed(first: 1) { nodes { id } } }"
    bff.home()
    sim_control.reset_stats()
    data = bff.data(under_me, withMore=False)
    assert list(data["me"]) == ["profile"]
    assert downstream_calls(sim_control) == {"crm": 1}
    sim_control.reset_stats()
    assert list(bff.data(at_root)) == ["contentFeed"]
    assert downstream_calls(sim_control) == {"content": 1}


# --- partial results -------------------------------------------------------------------------


def test_cards_down_in_both_data_centres_nulls_only_the_cards_with_one_coded_error(
    bff: BffClient, faults: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        faults.set_faults("cards", dc, down=True)
    body = answered(bff.home())
    me = body["data"]["me"]
    assert me["cards"] is None
    assert me["profile"]["name"]
    assert me["accounts"]
    assert me["loans"]["totalCount"] is not None
    assert me["wealth"]["total"]
    assert me["unreadMessageCount"] is not None
    assert body["data"]["contentFeed"]["nodes"]
    error = only_error(body)
    assert error["path"] == ["me", "cards"]
    assert error["extensions"]["code"] == "DOWNSTREAM_UNAVAILABLE"
    assert error["extensions"]["service"] == "cards"
    assert error["extensions"]["requestId"]


def test_wealth_slower_than_its_deadline_is_cut_off_and_nulled_alone(
    bff: BffClient, faults: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        faults.set_faults("wealth", dc, latency_ms=int(WEALTH_LATENCY_S * 1000))
    started = time.monotonic()
    response = bff.home()
    waited = time.monotonic() - started
    body = answered(response)
    assert waited < WEALTH_LATENCY_S, "the screen did not wait for the slow service's answer"
    me = body["data"]["me"]
    assert me["wealth"] is None
    assert me["profile"]["name"]
    assert me["accounts"]
    assert me["cards"]
    assert body["data"]["contentFeed"]["nodes"]
    error = only_error(body)
    assert error["path"] == ["me", "wealth"]
    assert error["extensions"]["code"] == "DOWNSTREAM_UNAVAILABLE"
    assert error["extensions"]["service"] == "wealth"


# --- scoping: another customer's ids reach nothing -------------------------------------------


def test_node_of_another_customers_account_is_not_found_and_reveals_nothing(
    bff: BffClient, mint: Callable[..., str]
) -> None:
    query = "query Peek($id: ID!) { node(id: $id) { id ... on Account { name maskedNumber balance { amount } } } }"
    for owner in (CUSTOMER_B, OTHER_BANK_CUSTOMER):
        theirs = bff.data(OWN_ACCOUNTS, token=mint(owner))["me"]["accounts"][0]
        response = bff.post({"query": query, "variables": {"id": theirs["id"]}})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == {"node": None}, owner
        error = only_error(body)
        assert error["path"] == ["node"]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert theirs["maskedNumber"] not in response.text
        assert theirs["name"] not in response.text


# --- GraphQL over HTTP -----------------------------------------------------------------------


def test_get_query_runs_with_a_preflight_header(bff: BffClient) -> None:
    params = {"query": "query Me { me { id memberBank } }", "operationName": "Me"}
    for header in ("graphql-preflight", "apollo-require-preflight"):
        response = bff.get(params, headers={header: "1"})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["me"]["memberBank"] == "RCB001"


def test_get_without_a_preflight_header_is_refused_as_possible_csrf(
    bff: BffClient, sim_control: SimControl
) -> None:
    sim_control.reset_stats()
    response = bff.get({"query": "query Me { me { id profile { name } } }"})
    assert response.status_code == 400
    error = only_error(response.json())
    assert "Cross-Site Request Forgery" in error["message"]
    assert "data" not in response.json()
    assert downstream_calls(sim_control) == {}


def test_mutation_over_get_is_405_and_moves_no_money(bff: BffClient, sim_control: SimControl) -> None:
    mutation = """
    mutation Pay {
      transfer(input: {
        fromAccountId: "QWNjb3VudDp4", toAccountNumber: "6217000010012345678", toName: "Li Lei",
        amount: {amount: "1.00"}, idempotencyKey: "e2e-get-mutation"
      }) { __typename }
    }
    """
    sim_control.reset_stats()
    response = bff.get({"query": mutation}, headers={"graphql-preflight": "1"})
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert only_error(response.json())["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert downstream_calls(sim_control) == {}


def test_validation_error_is_400_under_graphql_response_json_and_200_under_json(bff: BffClient) -> None:
    body = {"query": "{ me { noSuchField } }"}
    strict = bff.post(body)
    legacy = bff.post(body, accept=JSON)
    assert strict.status_code == 400
    assert strict.headers["Content-Type"].startswith("application/graphql-response+json")
    assert legacy.status_code == 200
    assert legacy.headers["Content-Type"].startswith("application/json")
    for response in (strict, legacy):
        assert only_error(response.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_text_plain_post_is_415(bff: BffClient) -> None:
    response = bff.http.post(
        "/graphql",
        content='{"query": "{ me { id } }"}',
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {bff.token}"},
    )
    assert response.status_code == 415
    assert only_error(response.json())["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_introspection_is_refused_in_production(bff: BffClient) -> None:
    for query in ("{ __schema { types { name } } }", '{ __type(name: "Account") { fields { name } } }'):
        response = bff.post({"query": query})
        assert response.status_code == 400
        body = response.json()
        assert "data" not in body
        assert body["errors"]
        for error in body["errors"]:
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "introspection has been disabled" in error["message"]


def test_graphiql_page_is_not_served_in_production(bff: BffClient) -> None:
    response = bff.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 406
    assert "text/html" not in response.headers["Content-Type"]
    assert only_error(response.json())["extensions"]["code"] == "NOT_ACCEPTABLE"


# --- metrics ---------------------------------------------------------------------------------


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of metric `name`, keyed by its sorted labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def total(found: dict[tuple[tuple[str, str], ...], float], **labels: str) -> float:
    return sum(v for key, v in found.items() if set(labels.items()) <= set(key))


def test_metrics_count_the_operation_by_name_and_its_downstream_calls_by_service(
    bff: BffClient,
) -> None:
    before = bff.metrics()
    answered(bff.home())
    after = bff.metrics()
    operations = "bff_graphql_requests_total"
    home_ok = {"operation": "HomeScreen", "outcome": "ok"}
    assert total(samples(after, operations), **home_ok) == total(samples(before, operations), **home_ok) + 1
    calls_before = samples(before, "bff_downstream_requests_total")
    calls_after = samples(after, "bff_downstream_requests_total")
    for service in ("core_banking", "crm", "cards", "loans", "wealth", "messages", "content"):
        grown = total(calls_after, service=service, outcome="ok") - total(
            calls_before, service=service, outcome="ok"
        )
        assert grown == 1, service
    assert {dict(key)["data_centre"] for key in calls_after} <= {"dc-a", "dc-b"}
    assert all(set(dict(key)) == {"service", "data_centre", "outcome"} for key in calls_after)


def test_breaker_state_is_exported_for_every_service_and_data_centre(bff: BffClient) -> None:
    states = samples(bff.metrics(), "bff_downstream_breaker_state")
    exported = {(dict(key)["service"], dict(key)["data_centre"]) for key in states}
    expected = {(service, dc) for service, dcs in breaker_states(bff.http).items() for dc in dcs}
    assert len(expected) == 16
    assert exported == expected


def test_breaker_state_metric_follows_a_data_centre_going_down_and_coming_back(
    bff: BffClient, faults: SimControl
) -> None:
    cards_dc_a = (("data_centre", "dc-a"), ("service", "cards"))
    faults.set_faults("cards", "dc-a", down=True)
    deadline = time.monotonic() + 10
    while breaker_states(bff.http)["cards"]["dc-a"] != "open":
        assert time.monotonic() < deadline, "cards dc-a breaker did not open"
        data = bff.data("query Cards { me { cards { id } } }")
        assert data["me"]["cards"], "dc-b answered every call dc-a could not"
    assert samples(bff.metrics(), "bff_downstream_breaker_state")[cards_dc_a] == 2
    faults.clear_faults()
    deadline = time.monotonic() + 10
    while breaker_states(bff.http)["cards"]["dc-a"] != "closed":
        assert time.monotonic() < deadline, "cards dc-a breaker did not close after healing"
        bff.data("query Cards { me { cards { id } } }")
    assert samples(bff.metrics(), "bff_downstream_breaker_state")[cards_dc_a] == 0
