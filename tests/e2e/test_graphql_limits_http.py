"""Every request limit, with the real schema over real HTTP: refused with its code, its number and its limit.

The session BFF runs the default limits (bff/settings.py) except depth, which
it lowers to SESSION_MAX_DEPTH: no valid operation of today's schema is deeper
than 7 levels, so the default of 12 cannot be reached.
"""

from __future__ import annotations

from typing import Any

from tests.support.graphql_http import JSON, SESSION_MAX_DEPTH, BffClient, downstream_calls, only_error
from tests.support.sim_control import SimControl

DEFAULT_MAX_ALIASES = 30
DEFAULT_MAX_COST = 20_000
DEFAULT_MAX_TOKENS = 5_000
DEFAULT_MAX_BATCH = 10
DEFAULT_MAX_BODY_BYTES = 1_000_000

SEVEN_LEVELS = "query Deep { me { cards { transactions { edges { node { amount { amount } } } } } } }"
SEVEN_LEVELS_BY_FRAGMENTS = """
query DeepByFragments { me { ...Cards } }
fragment Cards on Customer { cards { ...History } }
fragment History on Card { transactions { edges { node { ...Amount } } } }
fragment Amount on Transaction { amount { amount } }
"""
SIX_LEVELS = "query Shallow { me { accounts { transactions(first: 1) { edges { node { id } } } } } }"


def refusal(response: Any, code: str) -> dict[str, Any]:
    """The one error of a request refused before execution with `code`."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body, "nothing was executed"
    error = only_error(body)
    assert error["extensions"]["code"] == code, error
    return error


def test_query_deeper_than_the_limit_is_refused_naming_depth_and_limit(bff: BffClient) -> None:
    assert SESSION_MAX_DEPTH == 6
    for query in (SEVEN_LEVELS, SEVEN_LEVELS_BY_FRAGMENTS):
        error = refusal(bff.post({"query": query}), "QUERY_TOO_DEEP")
        assert "7 levels deep; the limit is 6" in error["message"]
        assert (error["extensions"]["depth"], error["extensions"]["limit"]) == (7, 6)


def test_query_at_the_depth_limit_runs(bff: BffClient) -> None:
    data = bff.data(SIX_LEVELS)
    assert data["me"]["accounts"][0]["transactions"]["edges"]


def aliased_ids(count: int) -> str:
    return "query Aliases { me { " + " ".join(f"a{i}: id" for i in range(count)) + " } }"


def test_more_aliases_than_the_limit_are_refused_naming_count_and_limit(bff: BffClient) -> None:
    error = refusal(bff.post({"query": aliased_ids(DEFAULT_MAX_ALIASES + 1)}), "TOO_MANY_ALIASES")
    assert f"uses 31 aliases; the limit is {DEFAULT_MAX_ALIASES}" in error["message"]


def test_aliases_up_to_the_limit_run(bff: BffClient) -> None:
    data = bff.data(aliased_ids(DEFAULT_MAX_ALIASES))
    assert len(set(data["me"].values())) == 1
    assert len(data["me"]) == DEFAULT_MAX_ALIASES


def histories(first: str) -> str:
    """Seven pages of history per account; accounts (no size argument) count as 10: 1 + 10 x (1 + 7 x 301)."""
    fields = " ".join(f"h{i}: transactions(first: {first}) {{ edges {{ node {{ id }} }} }}" for i in range(7))
    variables = "($n: Int!)" if first.startswith("$") else ""
    return f"query Histories{variables} {{ me {{ accounts {{ {fields} }} }} }}"


def test_query_costlier_than_the_limit_is_refused_before_any_downstream_call(
    bff: BffClient, sim_control: SimControl
) -> None:
    sim_control.reset_stats()
    error = refusal(bff.post({"query": histories("100")}), "QUERY_TOO_COMPLEX")
    assert f"costs 21072; the limit is {DEFAULT_MAX_COST}" in error["message"]
    assert error["extensions"]["cost"] == 21072
    assert downstream_calls(sim_control) == {}


def test_cost_set_by_a_variable_is_measured_per_request(bff: BffClient) -> None:
    document = histories("$n")
    error = refusal(bff.post({"query": document, "variables": {"n": 100}}), "QUERY_TOO_COMPLEX")
    assert f"the limit is {DEFAULT_MAX_COST}" in error["message"]
    data = bff.data(document, n=1)
    assert all(len(account["h6"]["edges"]) == 1 for account in data["me"]["accounts"])


def test_document_with_more_tokens_than_the_limit_is_refused_naming_count_and_limit(
    bff: BffClient,
) -> None:
    query = "{ me { " + "id " * DEFAULT_MAX_TOKENS + "} }"  # 5000 names and 5 punctuators
    error = refusal(bff.post({"query": query}), "TOO_MANY_TOKENS")
    assert f"has 5005 tokens; the limit is {DEFAULT_MAX_TOKENS}" in error["message"]


def test_batch_larger_than_the_limit_is_400_under_both_media_types(
    bff: BffClient, sim_control: SimControl
) -> None:
    batch = [{"query": "query Me { me { id } }"}] * (DEFAULT_MAX_BATCH + 1)
    sim_control.reset_stats()
    for accept in ("application/graphql-response+json", JSON):
        response = bff.post(batch, accept=accept)
        error = refusal(response, "BATCH_TOO_LARGE")
        assert f"holds 11 operations; the limit is {DEFAULT_MAX_BATCH}" in error["message"]
    assert downstream_calls(sim_control) == {}


def test_batch_at_the_limit_answers_each_request_in_order(bff: BffClient) -> None:
    batch = [{"query": f"query N{i} {{ me {{ memberBank }} n{i}: __typename }}"} for i in range(10)]
    response = bff.post(batch)
    assert response.status_code == 200
    answers = response.json()
    assert [list(a["data"])[1] for a in answers] == [f"n{i}" for i in range(10)]
    assert all(a["data"]["me"]["memberBank"] == "RCB001" for a in answers)


def test_body_larger_than_the_limit_is_413(bff: BffClient) -> None:
    padding = "x" * DEFAULT_MAX_BODY_BYTES
    response = bff.post({"query": "{ me { id } }", "variables": {"padding": padding}})
    assert response.status_code == 413
    error = only_error(response.json())
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert f"larger than {DEFAULT_MAX_BODY_BYTES} bytes" in error["message"]
