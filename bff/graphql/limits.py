"""Static limits on a parsed operation: depth, aliases, cost, tokens, and batch size.

An operation is measured once, when its document enters the document cache.
Depth and alias counts are fixed by the text; cost may depend on variables
(`first: $n`), so it is kept as a small plan that is evaluated per request.

Cost: every field costs 1; a list or connection field multiplies the cost of
its selection by its size argument (`first`, `last`, `limit`: a literal, a
variable, or the schema's default), or by `default_list_size` when it has
none. List fields directly inside a connection or edge type (`edges`,
`nodes`) are not multiplied again. Named fragments are measured once and
reused; a fragment cycle (which validation reports anyway) adds nothing.
Introspection fields (`__schema`, `__type`) are left out of depth and cost:
introspection is allowed in development only, and GraphiQL's own
introspection query is deeper than any screen's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.language import Lexer, Source, TokenKind

from bff.graphql.errors import Code, request_error


@dataclass(frozen=True, slots=True)
class Limits:
    """Each limit is configurable; None switches it off."""

    max_depth: int | None = 12
    max_aliases: int | None = 30
    max_cost: int | None = 20_000
    max_tokens: int | None = 5_000
    max_batch: int = 10
    default_list_size: int = 10
    size_arguments: tuple[str, ...] = ("first", "last", "limit")


@dataclass(frozen=True, slots=True)
class VariableSize:
    """A list size set by variables: the largest of them and of the literal sizes (`floor`)."""

    variables: tuple[str, ...]
    fallbacks: tuple[int, ...]  # per variable: its default in the operation, or the default list size
    floor: int

    def value(self, variables: Mapping[str, Any]) -> int:
        size = self.floor
        for name, fallback in zip(self.variables, self.fallbacks, strict=True):
            given = variables.get(name)
            n = given if isinstance(given, int) and not isinstance(given, bool) else fallback
            size = max(size, n)
        return size


@dataclass(frozen=True, slots=True)
class CostTerm:
    factor: int
    size: VariableSize
    rest: Cost


@dataclass(frozen=True, slots=True)
class CostSum:
    constant: int
    terms: tuple[CostTerm, ...]


# A plan: a plain int when no variable sets a list size (the usual case).
Cost = int | CostSum


def cost_of(plan: Cost, variables: Mapping[str, Any]) -> int:
    """The cost of an operation whose plan is `plan`, given the request's variables."""
    if isinstance(plan, int):
        return plan
    return _evaluate(plan, variables, {})


def _evaluate(plan: Cost, variables: Mapping[str, Any], seen: dict[int, int]) -> int:
    if isinstance(plan, int):
        return plan
    known = seen.get(id(plan))
    if known is not None:
        return known
    total = plan.constant
    for term in plan.terms:
        total += term.factor * term.size.value(variables) * _evaluate(term.rest, variables, seen)
    seen[id(plan)] = total
    return total


def _add(a: Cost, b: Cost) -> Cost:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    a_sum = a if isinstance(a, CostSum) else CostSum(a, ())
    b_sum = b if isinstance(b, CostSum) else CostSum(b, ())
    return CostSum(a_sum.constant + b_sum.constant, a_sum.terms + b_sum.terms)


def _scale(size: int | VariableSize, plan: Cost) -> Cost:
    if isinstance(size, VariableSize):
        return CostSum(0, (CostTerm(1, size, plan),))
    if isinstance(plan, int):
        return size * plan
    terms = tuple(CostTerm(t.factor * size, t.size, t.rest) for t in plan.terms)
    return CostSum(size * plan.constant, terms)


@dataclass(frozen=True, slots=True)
class Shape:
    """What the limits look at in one operation."""

    depth: int
    aliases: int
    cost: Cost


_EMPTY = Shape(0, 0, 0)


def _merge(a: Shape, b: Shape) -> Shape:
    return Shape(max(a.depth, b.depth), a.aliases + b.aliases, _add(a.cost, b.cost))


def measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    limits: Limits,
) -> Shape:
    """Depth, alias count and cost plan of a validated operation."""
    root = schema.get_root_type(operation.operation)
    if root is None or operation.selection_set is None:
        return _EMPTY
    defaults = _variable_defaults(operation, limits.default_list_size)
    return _Measure(schema, fragments, limits, defaults).selections(operation.selection_set, root)


def _variable_defaults(operation: OperationDefinitionNode, fallback: int) -> dict[str, int]:
    defaults: dict[str, int] = {}
    for definition in operation.variable_definitions or ():
        value = definition.default_value
        defaults[definition.variable.name.value] = (
            int(value.value) if isinstance(value, IntValueNode) else fallback
        )
    return defaults


@dataclass
class _Measure:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    limits: Limits
    variable_defaults: dict[str, int]
    memo: dict[str, Shape] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Shape:
        shape = _EMPTY
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                shape = _merge(shape, self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                shape = _merge(shape, self.selections(selection.selection_set, target or parent))
            elif isinstance(selection, FragmentSpreadNode):
                shape = _merge(shape, self.spread(selection.name.value, parent))
        return shape

    def spread(self, name: str, parent: GraphQLNamedType) -> Shape:
        known = self.memo.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return _EMPTY  # unknown fragment or a cycle: validation reports both
        self.active.add(name)
        target = self.schema.get_type(fragment.type_condition.name.value) or parent
        shape = self.selections(fragment.selection_set, target)
        self.active.discard(name)
        self.memo[name] = shape
        return shape

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> Shape:
        aliases = 1 if node.alias is not None else 0
        name = node.name.value
        if name in ("__schema", "__type"):
            return Shape(0, aliases, 0)
        definition = _field_definition(parent, name)
        if definition is None or node.selection_set is None:
            return Shape(1, aliases, 1)
        child = self.selections(node.selection_set, get_named_type(definition.type))
        size = self.size(node, definition, parent)
        cost = _add(1, _scale(size, child.cost))
        return Shape(child.depth + 1, child.aliases + aliases, cost)

    def size(self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType) -> int | VariableSize:
        """How many times the field's selection is paid for."""
        names = [a for a in self.limits.size_arguments if a in definition.args]
        if not names:
            is_list = isinstance(get_nullable_type(definition.type), GraphQLList)
            if not is_list or _is_connection_part(parent):
                return 1
            return self.limits.default_list_size
        given = {arg.name.value: arg.value for arg in node.arguments or ()}
        literals: list[int] = []
        variables: list[str] = []
        for name in names:
            value = given.get(name)
            if isinstance(value, IntValueNode):
                literals.append(int(value.value))
            elif isinstance(value, VariableNode):
                variables.append(value.name.value)
            elif value is None:
                default = definition.args[name].default_value
                if isinstance(default, int) and not isinstance(default, bool):
                    literals.append(default)
        if not literals and not variables:
            return self.limits.default_list_size
        floor = max(literals, default=0)
        if not variables:
            return max(floor, 0)
        fallback = self.limits.default_list_size
        fallbacks = tuple(self.variable_defaults.get(v, fallback) for v in variables)
        return VariableSize(tuple(variables), fallbacks, floor)


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _is_connection_part(parent: GraphQLNamedType) -> bool:
    # Relay: the connection field already paid for `first` items; its `edges`
    # and `nodes` lists are those items, not a new fan-out.
    return parent.name.endswith(("Connection", "Edge"))


def violations(shape: Shape, limits: Limits, variables: Mapping[str, Any]) -> list[GraphQLError]:
    """One error per limit the operation exceeds, each naming the measured value and the limit."""
    errors: list[GraphQLError] = []
    if limits.max_depth is not None and shape.depth > limits.max_depth:
        errors.append(
            request_error(
                f"The query is {shape.depth} levels deep; the limit is {limits.max_depth}. "
                "Ask for fewer nested levels, or split the query.",
                Code.QUERY_TOO_DEEP,
                depth=shape.depth,
                limit=limits.max_depth,
            )
        )
    if limits.max_aliases is not None and shape.aliases > limits.max_aliases:
        errors.append(
            request_error(
                f"The query uses {shape.aliases} aliases; the limit is {limits.max_aliases}. "
                "Use fewer aliased fields, or split the query.",
                Code.TOO_MANY_ALIASES,
                aliases=shape.aliases,
                limit=limits.max_aliases,
            )
        )
    if limits.max_cost is not None:
        cost = cost_of(shape.cost, variables)
        if cost > limits.max_cost:
            errors.append(
                request_error(
                    f"The query costs {cost}; the limit is {limits.max_cost}. Ask for smaller pages "
                    f"(first/last) or fewer nested lists; a list without a size counts as "
                    f"{limits.default_list_size} items.",
                    Code.QUERY_TOO_COMPLEX,
                    cost=cost,
                    limit=limits.max_cost,
                )
            )
    return errors


def too_many_tokens(source: str, limit: int) -> GraphQLError:
    """The error for a document the parser refused at `limit` tokens or comments; counts them."""
    tokens, comments = count_tokens(source)
    if comments > limit >= tokens:
        what, count = "comments", comments
    else:
        what, count = "tokens", tokens
    return request_error(
        f"The document has {count} {what}; the limit is {limit}. Send a smaller document.",
        Code.TOO_MANY_TOKENS,
        tokens=count,
        limit=limit,
    )


def count_tokens(source: str) -> tuple[int, int]:
    """Lexical tokens and comments in `source`, as far as it can be lexed."""
    lexer = Lexer(Source(source))
    start = lexer.token
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            pass
    except GraphQLError:
        pass  # a lexing error ends the count; the limit was already exceeded before it
    tokens = comments = 0
    token = start.next
    while token is not None and token.kind is not TokenKind.EOF:
        if token.kind is TokenKind.COMMENT:
            comments += 1
        else:
            tokens += 1
        token = token.next
    return tokens, comments


def batch_too_large(size: int, limit: int) -> GraphQLError:
    return request_error(
        f"The batch holds {size} operations; the limit is {limit}. Send it in smaller batches.",
        Code.BATCH_TOO_LARGE,
        size=size,
        limit=limit,
    )
