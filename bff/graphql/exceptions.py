"""Errors resolvers raise on purpose; bff/graphql/errors.py maps each to an error code."""

from __future__ import annotations


class ResolverError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(ResolverError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"


class BadUserInput(ResolverError):
    """An argument is out of range or malformed; the message says how to fix it."""

    code = "BAD_USER_INPUT"


class ObjectNotFound(ResolverError):
    """No such object for this caller (also when it exists but belongs to someone else)."""

    code = "NOT_FOUND"
