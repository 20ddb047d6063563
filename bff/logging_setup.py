"""Structured logs: one JSON object per line, each with the request id of the request it belongs to."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.orjson import OrjsonFormatter

from bff.channels.request_id import current_request_id

_FIELDS = ("levelname", "name", "message")
_RENAMED = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so that configuring again replaces it."""


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stdout as a JSON line; safe to call more than once."""
    handler = _JsonHandler(sys.stdout)
    handler.setFormatter(OrjsonFormatter(list(_FIELDS), rename_fields=_RENAMED, timestamp="time"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
