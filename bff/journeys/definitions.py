"""Journey definitions: state machines as data, read from journeys/*.json and checked before use.

A definition is checked against schemas/journey-definition.schema.json, then
against the rules a schema cannot express (states named exist, terminal
states end the journey, every state is reachable, payload schemas are valid
and self-contained). Every problem is reported with its file and JSON path,
all at once, and nothing is loaded while any remains.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.definition_schema import schema_problems
from bff.journeys.errors import (
    InvalidPayload,
    JourneyDefinitionError,
    TransitionForbidden,
    UnknownJourneyDefinition,
    UnknownTransition,
)
from bff.journeys.payloads import compile_payload_schema, outside_references, payload_problems
from bff.journeys.problems import Problem, json_path

DEFINITIONS_DIRECTORY: Final = Path(__file__).resolve().parents[2] / "journeys"

# The name of a journey's first event; the schema keeps transitions from using it.
START: Final = "start"


@dataclass(frozen=True)
class StateDefinition:
    name: str
    terminal: bool = False
    waiting_for: frozenset[JourneyRole] = frozenset()
    description: str = ""


@dataclass(frozen=True)
class TransitionDefinition:
    """One step: the start (no `from_states`) or a transition between states."""

    name: str
    from_states: frozenset[str]
    to: str
    channels: frozenset[Channel]
    roles: frozenset[JourneyRole]
    payload_schema: Mapping[str, Any]
    validator: Any = field(compare=False, repr=False)

    def check_actor(self, actor: Actor) -> None:
        """Raise TransitionForbidden unless the actor's channel and role may take this step."""
        if actor.channel not in self.channels or actor.role not in self.roles:
            raise TransitionForbidden(self.name, actor.channel, actor.role, self.channels, self.roles)

    def check_payload(self, payload: object) -> None:
        """Raise InvalidPayload, naming each field's JSON path, unless the payload fits the step's schema."""
        problems = payload_problems(self.validator, payload)
        if problems:
            raise InvalidPayload(self.name, problems)


@dataclass(frozen=True)
class JourneyDefinition:
    id: str
    version: int
    title: str
    description: str
    time_to_live_s: int
    terminal_retention_s: int
    start: TransitionDefinition
    states: Mapping[str, StateDefinition]
    transitions: Mapping[str, TransitionDefinition]

    def transition(self, name: str) -> TransitionDefinition:
        """The named transition; UnknownTransition if the definition has none by that name."""
        try:
            return self.transitions[name]
        except KeyError:
            raise UnknownTransition(self.id, name, self.transitions) from None

    def expiry_after(self, step: TransitionDefinition) -> int:
        """Seconds the journey lives after `step`: the retention once it ends, else the time to live."""
        return self.terminal_retention_s if self.states[step.to].terminal else self.time_to_live_s

    @property
    def employee_roles(self) -> frozenset[JourneyRole]:
        """Every role some state of this journey waits for."""
        return frozenset(role for state in self.states.values() for role in state.waiting_for)


class Definitions(Mapping[str, JourneyDefinition]):
    """The loaded definitions by id; `get_definition` raises a typed error for an unknown id."""

    def __init__(self, definitions: Iterable[JourneyDefinition]) -> None:
        self._by_id = {definition.id: definition for definition in definitions}

    def __getitem__(self, definition_id: str) -> JourneyDefinition:
        return self._by_id[definition_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def get_definition(self, definition_id: str) -> JourneyDefinition:
        try:
            return self._by_id[definition_id]
        except KeyError:
            raise UnknownJourneyDefinition(definition_id) from None


def load_definitions(directory: Path = DEFINITIONS_DIRECTORY) -> Definitions:
    """Every `*.json` definition in `directory`; JourneyDefinitionError lists every problem found."""
    definitions: list[JourneyDefinition] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.json")):
        try:
            definitions.append(read_definition(_read_json(path), file=path.name))
        except JourneyDefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise JourneyDefinitionError(problems)
    return Definitions(definitions)


def read_definition(document: object, *, file: str = "") -> JourneyDefinition:
    """One definition from its JSON document; `file` (its name) is checked against the id and named in problems."""
    problems = schema_problems(document)
    if not problems and isinstance(document, dict):
        problems = _rule_problems(document, file)
    if problems:
        raise JourneyDefinitionError(Problem(p.path, p.message, file) for p in problems)
    assert isinstance(document, dict)  # the schema requires an object
    return _build(document)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JourneyDefinitionError([Problem("$", f"is not a JSON document: {exc}", path.name)]) from None


# --- rules beyond the schema -------------------------------------------------
# They run on a document the schema accepted, so every key they read is there and well typed.


def _rule_problems(document: dict[str, Any], file: str) -> list[Problem]:
    return [
        *_id_matches_file(document, file),
        *_states_named_exist(document),
        *_terminal_states(document),
        *_reachable_states(document),
        *_payload_schemas(document),
    ]


def _id_matches_file(document: dict[str, Any], file: str) -> list[Problem]:
    if file and f"{document['id']}.json" != file:
        return [Problem("$.id", f"must be the file name without .json ({file.removesuffix('.json')!r})")]
    return []


def _states_named_exist(document: dict[str, Any]) -> list[Problem]:
    states = document["states"]
    named: list[tuple[list[str | int], str]] = [(["start", "state"], document["start"]["state"])]
    for name, transition in document["transitions"].items():
        named.append((["transitions", name, "to"], transition["to"]))
        named.extend((["transitions", name, "from", i], state) for i, state in enumerate(transition["from"]))
    return [
        Problem(json_path(path), f"names no state ({state!r}; states: {', '.join(states)})")
        for path, state in named
        if state not in states
    ]


def _terminal_states(document: dict[str, Any]) -> list[Problem]:
    states: dict[str, Any] = document["states"]
    terminal = {name for name, state in states.items() if state.get("terminal", False)}
    problems = [] if terminal else [Problem("$.states", "must have at least one terminal state")]
    problems += [
        Problem(json_path(["states", name, "waitingFor"]), "a terminal state waits for nobody")
        for name in sorted(terminal)
        if "waitingFor" in states[name]
    ]
    problems += [
        Problem(
            json_path(["transitions", name, "from", i]), f"{state!r} is terminal: no transition leaves it"
        )
        for name, transition in document["transitions"].items()
        for i, state in enumerate(transition["from"])
        if state in terminal
    ]
    start = document["start"]["state"]
    if start in states and (states[start].get("terminal") or "waitingFor" in states[start]):
        # A journey that starts waiting for an employee would need the work-queue index
        # written before the journey exists (see waiting.py); no journey starts that way.
        problems.append(
            Problem("$.start.state", "the start state may be neither terminal nor waiting for anyone")
        )
    return problems


def _reachable_states(document: dict[str, Any]) -> list[Problem]:
    reached = {document["start"]["state"]}
    edges = [(set(t["from"]), t["to"]) for t in document["transitions"].values()]
    grown = True
    while grown:
        before = len(reached)
        reached |= {to for sources, to in edges if sources & reached}
        grown = len(reached) > before
    return [
        Problem(json_path(["states", name]), "cannot be reached from the start state")
        for name in document["states"]
        if name not in reached
    ]


def _payload_schemas(document: dict[str, Any]) -> list[Problem]:
    # Their validity as JSON Schema 2020-12 is checked by the definition schema ($ref to the
    # meta-schema); what is left is that they are checked offline, against themselves only.
    steps = [(["start"], document["start"])]
    steps += [(["transitions", name], transition) for name, transition in document["transitions"].items()]
    return [
        Problem(
            json_path([*path, "payload", *ref]), "may only refer inside the payload schema (start with '#')"
        )
        for path, step in steps
        for ref in outside_references(step["payload"])
    ]


# --- building the values -----------------------------------------------------


def _build(document: dict[str, Any]) -> JourneyDefinition:
    states = {name: _state(name, state) for name, state in document["states"].items()}
    start = document["start"]
    return JourneyDefinition(
        id=document["id"],
        version=document["version"],
        title=document["title"],
        description=document.get("description", ""),
        time_to_live_s=document["timeToLiveSeconds"],
        terminal_retention_s=document["terminalRetentionSeconds"],
        start=_step(START, {**start, "from": [], "to": start["state"]}),
        states=states,
        transitions={name: _step(name, t) for name, t in document["transitions"].items()},
    )


def _state(name: str, state: dict[str, Any]) -> StateDefinition:
    return StateDefinition(
        name=name,
        terminal=state.get("terminal", False),
        waiting_for=frozenset(JourneyRole(role) for role in state.get("waitingFor", [])),
        description=state.get("description", ""),
    )


def _step(name: str, step: dict[str, Any]) -> TransitionDefinition:
    return TransitionDefinition(
        name=name,
        from_states=frozenset(step["from"]),
        to=step["to"],
        channels=frozenset(Channel(channel) for channel in step["channels"]),
        roles=frozenset(JourneyRole(role) for role in step["roles"]),
        payload_schema=step["payload"],
        validator=compile_payload_schema(step["payload"]),
    )
