"""Logging: structlog, JSON in production, readable in a terminal, addresses redacted.

Addresses are personal data. With redaction on (the default), every e-mail address in a log
event, in any string value, is replaced by its domain and a short keyed digest of the whole
address: the same address gives the same digest within one process (so a log reader can follow
it), while the key is random per process so the digest cannot be looked up in a dictionary.
Secrets never reach the logger: configuration objects do not print their keys.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,200}@([\w-]{1,63}(?:\.[\w-]{1,63}){0,10})")
_KEY = secrets.token_bytes(16)


def redact_address(text: str) -> str:
    """Replace every address in a text by ``<redacted:DIGEST@domain>``."""

    def sub(match: re.Match[str]) -> str:
        digest = hmac.new(_KEY, match.group(0).lower().encode(), hashlib.sha256).hexdigest()
        return f"<redacted:{digest[:8]}@{match.group(1)}>"

    return _ADDRESS.sub(sub, text) if "@" in text else text


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_address(value)
    return event


def configure(*, fmt: str = "json", level: str = "info", redact: bool = True) -> None:
    """Set up structlog (and the standard library's logging, for libraries) once per process."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if redact:
        processors.append(_redact)
    if fmt == "console":
        processors.append(structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    else:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)


def get(name: str) -> Any:
    """A logger bound to a component name."""
    return structlog.get_logger(component=name)
