"""MTA delivery records: the delivery.log input topic.

Each record is one JSON object (schemas/delivery-record.json is the contract). The validator here
is hand-written for speed (it runs for every record in the consume loop) and a property test
checks that it accepts and refuses exactly what the JSON Schema does. A bounced or deferred
record carries the receiving server's reply, which is classified like a bounce message: most of
an ESP's bounces and nearly all rate-limit replies arrive this way, synchronously, not as mail.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from bounced.errors import ValidationError

MAX_RECORD_BYTES = 64 * 1024


class DeliveryEvent(StrEnum):
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    """One delivery attempt outcome."""

    event: DeliveryEvent
    timestamp: float  # epoch seconds
    recipient: str
    client: str | None = None
    campaign: str | None = None
    sending_ip: str | None = None
    pool: str | None = None
    receiving_domain: str | None = None
    mx_host: str | None = None
    reply_code: int | None = None
    enhanced_status: str | None = None
    reply_text: str | None = None
    message_id: str | None = None


# The schema's own patterns, searched the way JSON Schema validators do (re.search).
_RECIPIENT = re.compile(r"^[^@\s]+@[^@\s]+$")
_STATUS = re.compile(r"^[245]\.[0-9]{1,3}\.[0-9]{1,3}$")
# RFC 3339 section 5.6 date-time (what the schema's "date-time" format means).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)
_MAX_EPOCH = 32503680000
# member: (max length, min length)
_STRINGS: dict[str, tuple[int, int]] = {
    "client": (128, 1),
    "campaign": (128, 1),
    "pool": (128, 1),
    "receiving_domain": (255, 0),
    "mx_host": (255, 0),
    "reply_text": (4096, 0),
    "message_id": (998, 0),
}


def read_record(value: bytes | None) -> DeliveryRecord:
    """Decode and validate one delivery record. Raises `ValidationError` naming the problem."""
    if value is None:
        raise ValidationError("the record has no value")
    if len(value) > MAX_RECORD_BYTES:
        raise ValidationError(f"the record is {len(value)} bytes, over {MAX_RECORD_BYTES}")
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the record is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValidationError("the record is not a JSON object")
    return _validate(doc)


def _validate(doc: dict[str, Any]) -> DeliveryRecord:
    for name in ("event", "timestamp", "recipient"):
        if name not in doc:
            raise ValidationError(f"$.{name} is required")
    event = doc["event"]
    if event not in ("delivered", "bounced", "deferred"):
        raise ValidationError("$.event must be one of delivered, bounced, deferred")
    recipient = doc["recipient"]
    if (
        not isinstance(recipient, str)
        or not 3 <= len(recipient) <= 320
        or not _RECIPIENT.search(recipient)
    ):
        raise ValidationError("$.recipient must be an address (local@domain, 3 to 320 characters)")
    strings: dict[str, str | None] = {}
    for name, (longest, shortest) in _STRINGS.items():
        item = doc.get(name)
        if item is None and name not in doc:
            strings[name] = None
            continue
        if not isinstance(item, str) or not shortest <= len(item) <= longest:
            raise ValidationError(
                f"$.{name} must be a string of {shortest} to {longest} characters"
            )
        strings[name] = item
    return DeliveryRecord(
        event=DeliveryEvent(event),
        timestamp=_timestamp(doc["timestamp"]),
        recipient=recipient,
        sending_ip=_ip(doc),
        reply_code=_reply_code(doc),
        enhanced_status=_status(doc),
        **strings,
    )


def _timestamp(value: Any) -> float:
    if isinstance(value, bool):
        raise ValidationError("$.timestamp must be an RFC 3339 date-time or epoch seconds")
    if isinstance(value, int | float):
        if not 0 <= value <= _MAX_EPOCH:
            raise ValidationError("$.timestamp is out of range")
        return float(value)
    if isinstance(value, str) and len(value) <= 64 and _RFC3339.search(value):
        try:
            parsed = datetime.fromisoformat(value.upper())
        except ValueError:
            pass
        else:
            return parsed.astimezone(UTC).timestamp()
    raise ValidationError("$.timestamp must be an RFC 3339 date-time or epoch seconds")


def _ip(doc: dict[str, Any]) -> str | None:
    if "sending_ip" not in doc:
        return None
    value = doc["sending_ip"]
    if isinstance(value, str) and len(value) <= 45:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise ValidationError("$.sending_ip must be an IPv4 or IPv6 address")


def _reply_code(doc: dict[str, Any]) -> int | None:
    if "reply_code" not in doc:
        return None
    value = doc["reply_code"]
    if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599:
        raise ValidationError("$.reply_code must be an integer from 200 to 599")
    return value


def _status(doc: dict[str, Any]) -> str | None:
    if "enhanced_status" not in doc:
        return None
    value = doc["enhanced_status"]
    if not isinstance(value, str) or not _STATUS.search(value):
        raise ValidationError("$.enhanced_status must look like 5.1.1")
    return value
