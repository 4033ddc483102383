"""Operator commands: the command topic (schemas/command.json).

An operator (or a tool acting for one) overrides the policy by producing a command: promote a
client to the shared pool, demote it, freeze its automatic transitions, lift a suppression,
release a throttle. Commands travel through Kafka like everything else, so every instance sees
them in order and they are stored with the state they change. This module reads and checks the
record (the action must be one of `CommandAction`, with the fields `REQUIRED` names); what each
action does is the policy's business (bounced/policy, docs/policy.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from bounced.errors import ValidationError
from bounced.model import Provider


class CommandAction(StrEnum):
    """What an operator can ask for."""

    POOL_PROMOTE = "pool.promote"  # client -> grid, whatever its state
    POOL_DEMOTE = "pool.demote"  # client -> demoted (cooldown follows)
    POOL_FREEZE = "pool.freeze"  # no automatic pool transitions for the client
    POOL_UNFREEZE = "pool.unfreeze"
    AUDIT_PASS = "audit.pass"  # noqa: S105 (not a password: the client's list audit passed)
    AUDIT_FAIL = "audit.fail"
    SUPPRESSION_LIFT = "suppression.lift"  # address (and client, for a client-scoped one)
    THROTTLE_RELEASE = "throttle.release"  # provider and ip (or client): back to full speed
    WARMUP_START = "warmup.start"  # ip (and provider, else every configured provider)
    WARMUP_STOP = "warmup.stop"


# The fields each action needs; the other fields are optional (operator and note always are).
REQUIRED: dict[CommandAction, tuple[str, ...]] = {
    CommandAction.POOL_PROMOTE: ("client",),
    CommandAction.POOL_DEMOTE: ("client",),
    CommandAction.POOL_FREEZE: ("client",),
    CommandAction.POOL_UNFREEZE: ("client",),
    CommandAction.AUDIT_PASS: ("client",),
    CommandAction.AUDIT_FAIL: ("client",),
    CommandAction.SUPPRESSION_LIFT: ("address",),
    CommandAction.THROTTLE_RELEASE: ("provider",),
    CommandAction.WARMUP_START: ("ip",),
    CommandAction.WARMUP_STOP: ("ip",),
}

MAX_COMMAND_BYTES = 16 * 1024
_PROVIDERS = frozenset(str(p) for p in Provider)
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
    try:
        known = CommandAction(action)
    except ValueError:
        choices = ", ".join(a.value for a in CommandAction)
        raise ValidationError(f"$.action {action!r} is not one of {choices}") from None
    fields: dict[str, str | None] = {}
    for name, longest in _TEXT_FIELDS.items():
        item = doc.get(name)
        if item is None:
            continue
        if not isinstance(item, str) or len(item) > longest:
            raise ValidationError(f"$.{name} must be a string of at most {longest} characters")
        fields[name] = item
    provider = fields.get("provider")
    if provider is not None and provider not in _PROVIDERS:
        raise ValidationError(f"$.provider {provider!r} is not a known provider")
    unknown = set(doc) - set(_TEXT_FIELDS) - {"action"}
    if unknown:
        raise ValidationError(f"unknown member(s): {', '.join(sorted(unknown))}")
    missing = [name for name in REQUIRED[known] if not fields.get(name)]
    if known is CommandAction.THROTTLE_RELEASE and not (fields.get("ip") or fields.get("client")):
        missing.append("ip or client")
    if missing:
        raise ValidationError(f"{action} needs {', '.join('$.' + m for m in missing)}")
    return Command(
        action=action,
        client=fields.get("client"),
        address=fields.get("address"),
        ip=fields.get("ip"),
        provider=fields.get("provider"),
        operator=fields.get("operator") or "",
        note=fields.get("note") or "",
    )
