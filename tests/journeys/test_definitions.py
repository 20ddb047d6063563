"""Journey definitions: the three shipped ones load; broken ones are refused with file and JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.definitions import DEFINITIONS_DIRECTORY, Definitions, load_definitions, read_definition
from bff.journeys.errors import JourneyDefinitionError, TransitionForbidden, UnknownJourneyDefinition

FILE = "loan-application.json"


@pytest.fixture
def loan() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEFINITIONS_DIRECTORY / FILE).read_text())
    return copy.deepcopy(document)


def problems(document: object, file: str = FILE) -> list[tuple[str, str]]:
    with pytest.raises(JourneyDefinitionError) as refused:
        read_definition(document, file=file)
    assert refused.value.code == "INVALID_JOURNEY_DEFINITION"
    assert all(problem.file == file for problem in refused.value.problems)
    return [(problem.path, problem.message) for problem in refused.value.problems]


def test_the_three_definitions_load(definitions: Definitions) -> None:
    assert sorted(definitions) == ["account-opening", "loan-application", "park-lease-application"]
    loan = definitions.get_definition("loan-application")
    assert loan.states["submitted"].waiting_for == {JourneyRole.APPROVER}
    assert loan.transition("submit").channels == {
        Channel.APP,
        Channel.WEB,
        Channel.MINI_PROGRAM,
        Channel.BRANCH,
    }
    assert loan.start.to == "draft"
    assert (loan.time_to_live_s, loan.expiry_after(loan.transition("approve"))) == (2592000, 157680000)
    assert definitions.get_definition("account-opening").employee_roles == {JourneyRole.TELLER}
    with pytest.raises(UnknownJourneyDefinition):
        definitions.get_definition("mortgage")


def test_actor_check_names_the_allowed_channels_and_roles(definitions: Definitions) -> None:
    approve = definitions.get_definition("loan-application").transition("approve")
    approve.check_actor(Actor(Channel.BRANCH, JourneyRole.APPROVER, "E-1"))
    with pytest.raises(TransitionForbidden, match=r"allowed channels: branch; roles: approver"):
        approve.check_actor(Actor(Channel.BRANCH, JourneyRole.TELLER, "E-2"))


def test_unknown_keys_are_refused_at_their_path(loan: dict[str, Any]) -> None:
    loan["colour"] = "green"
    loan["states"]["draft"]["timeout"] = 5
    loan["transitions"]["submit"]["approver"] = "anyone"
    assert problems(loan) == [
        ("$.colour", "unknown key 'colour' (allowed: $schema, id, version, title, description, "
         "timeToLiveSeconds, terminalRetentionSeconds, start, states, transitions)"),
        ("$.states.draft.timeout", "unknown key 'timeout' (allowed: description, terminal, waitingFor)"),
        ("$.transitions.submit.approver", "unknown key 'approver' (allowed: description, from, to, channels, roles, payload)"),
    ]  # fmt: skip


def test_wrong_values_are_reported_at_their_path(loan: dict[str, Any]) -> None:
    loan["transitions"]["approve"]["roles"] = ["approver", "manager"]
    loan["transitions"]["approve"]["channels"] = []
    del loan["timeToLiveSeconds"]
    loan["transitions"]["start"] = loan["transitions"].pop("withdraw")
    loan["transitions"]["decline"]["payload"] = {"type": "array"}
    loan["transitions"]["submit"]["payload"]["properties"]["consentToCreditCheck"] = {"minLength": -1}
    found = problems(loan)
    assert ("$.timeToLiveSeconds", "required key 'timeToLiveSeconds' is missing") in found
    assert (
        "$.transitions.approve.roles[1]",
        "'manager' is not one of ['customer', 'teller', 'approver']",
    ) in found
    assert ("$.transitions.approve.channels", "[] should be non-empty") in found
    assert any(path == "$.transitions.start" and message.startswith("key ") for path, message in found)
    assert ("$.transitions.decline.payload.type", "'object' was expected") in found
    minimum = (
        "$.transitions.submit.payload.properties.consentToCreditCheck.minLength",
        "-1 is less than the minimum of 0",
    )
    assert minimum in found


def test_rules_beyond_the_schema_are_checked(loan: dict[str, Any]) -> None:
    loan["transitions"]["withdraw"]["from"].append("paused")
    loan["transitions"]["decline"]["from"] = ["submitted", "approved"]
    loan["states"]["archived"] = {"terminal": True}
    loan["states"]["withdrawn"]["waitingFor"] = ["teller"]
    loan["transitions"]["submit"]["payload"]["properties"]["extra"] = {"$ref": "https://example.com/s.json"}
    assert problems(loan, file="loan.json") == [
        ("$.id", "must be the file name without .json ('loan')"),
        ("$.states.archived", "cannot be reached from the start state"),
        ("$.states.withdrawn.waitingFor", "a terminal state waits for nobody"),
        ("$.transitions.decline.from[1]", "'approved' is terminal: no transition leaves it"),
        ("$.transitions.submit.payload.properties.extra['$ref']",
         "may only refer inside the payload schema (start with '#')"),
        ("$.transitions.withdraw.from[4]", "names no state ('paused'; states: draft, income-provided, submitted, "
         "documents-requested, approved, declined, withdrawn, archived)"),
    ]  # fmt: skip


def test_start_state_may_not_wait_for_an_employee(loan: dict[str, Any]) -> None:
    loan["states"]["draft"]["waitingFor"] = ["teller"]
    assert ("$.start.state", "the start state may be neither terminal nor waiting for anyone") in problems(
        loan
    )


def test_loading_reports_every_file_at_once(tmp_path: Path, loan: dict[str, Any]) -> None:
    (tmp_path / "loan-application.json").write_text(json.dumps({**loan, "version": 0}))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(JourneyDefinitionError) as refused:
        load_definitions(tmp_path)
    assert [(p.file, p.path) for p in refused.value.problems] == [
        ("broken.json", "$"),
        ("loan-application.json", "$.version"),
    ]
    assert str(refused.value).startswith("journey definitions refused (2 problems):\n  broken.json $: ")
