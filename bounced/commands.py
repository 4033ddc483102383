"""Operator commands: the command topic (schemas/command.json).

An operator (or a tool acting for one) overrides the policy by producing a command: promote a
client to the shared pool, demote it, freeze its automatic transitions, lift a suppression,
release a throttle. Commands travel through Kafka like everything else, so every instance sees
them in order and they are stored with the state they change. This module only reads and checks
the record; what each action does is the policy's business (bounced/policy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from bounced.errors import ValidationError

MAX_COMMAND_BYTES = 16 * 1024
_ACTION = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_TEXT_FIELDS = {
    "client": 128,
    "address": 320,
    "ip": 45,
    "provider": 64,
    "operator": 128,
    "note": 1000,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One operator command."""

    action: str  # e.g. pool.promote, pool.demote, pool.freeze, suppression.lift, throttle.release
    client: str | None = None
    address: str | None = None
    ip: str | None = None
    provider: str | None = None
    operator: str = ""
    note: str = ""


def read_command(value: bytes | None) -> Command:
    """Decode and check one command record. Raises `ValidationError` naming the problem."""
    if not value:
        raise ValidationError("the command record has no value")
    if len(value) > MAX_COMMAND_BYTES:
        raise ValidationError(f"the command is {len(value)} bytes, over {MAX_COMMAND_BYTES}")
    try:
        doc: Any = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the command is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValidationError("the command is not a JSON object")
    action = doc.get("action")
    if not isinstance(action, str) or not _ACTION.search(action):
        raise ValidationError("$.action must be a lower-case action name such as pool.promote")
    fields: dict[str, str | None] = {}
    for name, longest in _TEXT_FIELDS.items():
        item = doc.get(name)
        if item is None:
            continue
        if not isinstance(item, str) or len(item) > longest:
            raise ValidationError(f"$.{name} must be a string of at most {longest} characters")
        fields[name] = item
    unknown = set(doc) - set(_TEXT_FIELDS) - {"action"}
    if unknown:
        raise ValidationError(f"unknown member(s): {', '.join(sorted(unknown))}")
    return Command(
        action=action,
        client=fields.get("client"),
        address=fields.get("address"),
        ip=fields.get("ip"),
        provider=fields.get("provider"),
        operator=fields.get("operator") or "",
        note=fields.get("note") or "",
    )
