"""graphql-core's executor with a fast path for plain leaf fields.

Most fields of a response are plain attributes that serialize to a scalar: an
amount, a name, an id. graphql-core runs each through the general path (a
resolve-info object, argument handling, the resolver, awaitable checks, leaf
completion), about ten microseconds a field here, so a page of twenty
transactions spends most of its execution there. For a field that strawberry
itself resolves as a bare attribute read (no resolver, no extensions, no
arguments) and whose type is a scalar or an enum, this context reads and
serializes the value directly. Anything unusual (a null for a non-null field,
a value the scalar refuses, an exception) goes through graphql-core's own path,
so errors, their paths and null propagation are exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField


@dataclass(frozen=True, slots=True)
class _Leaf:
    resolve: Callable[[Any, None], Any]
    serialize: Callable[[Any], Any]
    non_null: bool


LeafFields = Mapping[GraphQLObjectType, Mapping[str, _Leaf]]


def leaf_fields(schema: GraphQLSchema) -> dict[GraphQLObjectType, dict[str, _Leaf]]:
    """Per object type, its fields that are plain attribute reads of a scalar or enum."""
    found: dict[GraphQLObjectType, dict[str, _Leaf]] = {}
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
                continue
            if field.args or field.resolve is None:
                continue
            non_null = isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                found.setdefault(graphql_type, {})[name] = _Leaf(field.resolve, named.serialize, non_null)
    return found


class LeafFastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context; `leaves` is set on a subclass made per schema (`for_schema`)."""

    leaves: LeafFields = {}

    @classmethod
    def for_schema(cls, schema: GraphQLSchema) -> type[LeafFastExecutionContext]:
        return type("SchemaLeafFastExecutionContext", (cls,), {"leaves": leaf_fields(schema)})

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        of_type = self.leaves.get(parent_type)
        leaf = of_type.get(field_details_list[0].node.name.value) if of_type else None
        if leaf is not None:
            try:
                value = leaf.resolve(source, None)
                if value is None:
                    if not leaf.non_null:
                        return None
                else:
                    serialized = leaf.serialize(value)
                    if serialized is not None and serialized is not Undefined:
                        return serialized
            except Exception:  # the full path below raises it again and reports it properly
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
