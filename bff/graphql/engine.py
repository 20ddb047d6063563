"""Parse, validate, measure and execute GraphQL documents; each document text is parsed once.

`GraphQLEngine` runs graphql-core directly on the strawberry schema's
GraphQLSchema, with strawberry's execution context (plus a fast path for plain
leaf fields, bff/graphql/execution.py), as `strawberry.Schema.execute` does, minus the per-request work that is the same for every request with the
same document: parsing, validation and limit analysis are cached (LRU, keyed
by the document text). Strawberry schema extensions do not run on this path;
the engine refuses a schema that has any.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    parse,
    specified_rules,
    subscribe,
    validate,
)
from graphql.validation import ASTValidationRule
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from bff.graphql.errors import Code, RequestRejected, request_error, with_code
from bff.graphql.execution import LeafFastExecutionContext
from bff.graphql.limits import Limits, Shape, cost_of, measure, too_many_tokens, violations

# strawberry's check (a fast path for common types) typed as graphql-core expects.
_is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a cached document, with what the limits measured in it."""

    type: OperationType
    name: str | None
    shape: Shape
    # Root field name -> the field names selected directly under it (through
    # fragments), computed once so a context can start known loads before execution.
    root_selections: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return self.shape.depth

    @property
    def aliases(self) -> int:
        return self.shape.aliases

    def cost(self, variables: Mapping[str, Any]) -> int:
        return cost_of(self.shape.cost, variables)


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document parsed and validated once: either errors, or its operations by name."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    operations: Mapping[str | None, Operation]

    def operation_label(self, requested: str | None) -> str | None:
        """The operation's name for logs and metrics, even when the document is invalid."""
        if requested is not None or self.document is None:
            return requested
        names = [d.name for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        return names[0].value if len(names) == 1 and names[0] is not None else None

    def operation(self, name: str | None) -> Operation:
        """The operation `name` selects, by the GraphQL spec's GetOperation rules."""
        if name is None:
            if len(self.operations) == 1:
                return next(iter(self.operations.values()))
            raise RequestRejected(
                [
                    request_error(
                        "The document holds several operations; say which to run in operationName.",
                        Code.OPERATION_RESOLUTION_FAILURE,
                    )
                ]
            )
        found = self.operations.get(name)
        if found is None:
            known = ", ".join(sorted(n for n in self.operations if n)) or "none"
            raise RequestRejected(
                [
                    request_error(
                        f"Unknown operation named {name!r}; the document's operations are: {known}.",
                        Code.OPERATION_RESOLUTION_FAILURE,
                    )
                ]
            )
        return found


class GraphQLEngine:
    """Runs documents against one schema; parse, validation and limit analysis happen once per text."""

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        limits: Limits | None = None,
        development: bool = False,
        cache_size: int = 1000,
    ) -> None:
        if schema.extensions or schema.directives:
            raise ValueError(
                "GraphQLEngine executes with graphql-core directly, so strawberry schema extensions "
                "and custom directives would be skipped; build the schema without them"
            )
        self.schema = schema
        self.limits = limits or Limits()
        self.development = development
        self._graphql_schema = schema._schema
        self._execution_context = LeafFastExecutionContext.for_schema(self._graphql_schema)
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
        ]
        if not development:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = tuple(rules)
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._cache_size = cache_size
        # Documents parsed so far (cache misses); a test reads it to see the cache work.
        self.parse_count = 0

    def prepare(self, source: str) -> PreparedDocument:
        """The parsed, validated and measured document for `source`, from the cache when known."""
        prepared = self._cache.get(source)
        if prepared is not None:
            self._cache.move_to_end(source)
            return prepared
        prepared = self._prepare(source)
        self._cache[source] = prepared
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return prepared

    def plan(
        self, prepared: PreparedDocument, operation_name: str | None, variables: Mapping[str, Any]
    ) -> Operation:
        """The operation to run, or RequestRejected for document errors and exceeded limits."""
        if prepared.errors:
            raise RequestRejected(list(prepared.errors))
        operation = prepared.operation(operation_name)
        errors = violations(operation.shape, self.limits, variables)
        if errors:
            raise RequestRejected(errors)
        return operation

    async def execute(
        self,
        prepared: PreparedDocument,
        operation: Operation,
        variables: dict[str, Any] | None,
        context: Any,
        extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run a planned operation; resolver errors come back in the result, not raised."""
        assert prepared.document is not None
        prefetch = getattr(context, "prefetch", None)
        if prefetch is not None:
            prefetch(operation.root_selections)
        result = execute(
            self._graphql_schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation.name,
            executor_class=self._execution_context,
            is_awaitable=_is_awaitable,
            hide_suggestions=not self.development,
            operation_extensions=extensions,
        )
        if isinstance(result, ExecutionResult):
            return result
        return await result

    async def subscribe(
        self,
        prepared: PreparedDocument,
        operation: Operation,
        variables: dict[str, Any] | None,
        context: Any,
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a planned subscription: its event stream, or an ExecutionResult with the errors."""
        assert prepared.document is not None
        result = subscribe(
            self._graphql_schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation.name,
            executor_class=self._execution_context,
            hide_suggestions=not self.development,
        )
        if isinstance(result, ExecutionResult):
            return result
        if inspect.isawaitable(result):
            return await result
        return result

    def _prepare(self, source: str) -> PreparedDocument:
        self.parse_count += 1
        try:
            document = self._parse(source)
        except GraphQLError as error:
            return PreparedDocument(None, (error,), {})
        errors = validate(self._graphql_schema, document, self._rules, hide_suggestions=not self.development)
        if errors:
            coded = tuple(with_code(e, Code.GRAPHQL_VALIDATION_FAILED) for e in errors)
            return PreparedDocument(document, coded, {})
        try:
            operations = self._measure(document)
        except RecursionError:
            too_deep = request_error("The query is nested too deeply to analyse.", Code.QUERY_TOO_DEEP)
            return PreparedDocument(document, (too_deep,), {})
        return PreparedDocument(document, (), operations)

    def _parse(self, source: str) -> DocumentNode:
        limit = self.limits.max_tokens
        try:
            return parse(source, max_lexical_tokens=limit, max_comments=limit)
        except GraphQLSyntaxError as error:
            if limit is not None and "contains more than" in error.message:
                raise too_many_tokens(source, limit) from None
            if "nested too deeply" in error.message:
                raise with_code(error, Code.QUERY_TOO_DEEP) from None
            raise with_code(error, Code.GRAPHQL_PARSE_FAILED) from None

    def _measure(self, document: DocumentNode) -> dict[str | None, Operation]:
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        operations: dict[str | None, Operation] = {}
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            shape = measure(self._graphql_schema, definition, fragments, self.limits)
            name = definition.name.value if definition.name else None
            roots = root_selections(definition.selection_set, fragments)
            operations[name] = Operation(definition.operation, name, shape, roots)
        return operations


def root_selections(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> dict[str, frozenset[str]]:
    """For each root field, the names of the fields selected under it."""
    roots: dict[str, set[str]] = {}
    for root in _fields(selection_set, fragments, set()):
        children = roots.setdefault(root.name.value, set())
        if root.selection_set is not None:
            children.update(child.name.value for child in _fields(root.selection_set, fragments, set()))
    return {name: frozenset(children) for name, children in roots.items()}


def _fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if any(d.name.value in ("skip", "include") for d in selection.directives or ()):
            # Whether these run depends on variables; they load when (if) resolved.
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)
