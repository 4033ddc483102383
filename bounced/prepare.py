"""Consumed record -> engine Input: the CPU-heavy, pure part of the consume loop.

Raw bounces and feedback reports go through the parser, classification and attribution; delivery
records are validated and, when they carry a failure reply, classified like a bounce; anything
that cannot be read becomes a rejection, which the engine turns into a dead letter. The function
is picklable and pure, so the daemon can run it in a process pool when one core is not enough.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bounced.commands import read_command
from bounced.engine import Input, Rejection
from bounced.errors import ParseError, ValidationError
from bounced.events import SourceRef
from bounced.io.ports import InRecord
from bounced.model import (
    Attribution,
    AttributionSource,
    DsnAction,
    Entry,
    Kind,
    Report,
    Signal,
)
from bounced.parse import DEFAULT_LIMITS, Limits
from bounced.pipeline import Attributor, process, signals_of
from bounced.records import DeliveryEvent, DeliveryRecord, read_record

BOUNCE = "bounce"
FEEDBACK = "feedback"
DELIVERY = "delivery_record"
COMMAND = "command"


@dataclass(frozen=True, slots=True, kw_only=True)
class Preparer:
    """Prepares records of the three input topics (names from the configuration)."""

    origins: dict[str, str]  # topic name -> bounce | feedback | delivery_record
    limits: Limits = DEFAULT_LIMITS
    attributor: Attributor | None = None

    def __call__(self, record: InRecord) -> Input:
        return prepare(record, self.origins.get(record.topic, BOUNCE), self.limits, self.attributor)


def fingerprint(value: bytes) -> str:
    """Identity of an input's content: the same bounce delivered twice has the same one."""
    return hashlib.sha256(value).hexdigest()[:32]


def prepare(
    record: InRecord,
    origin: str,
    limits: Limits = DEFAULT_LIMITS,
    attributor: Attributor | None = None,
) -> Input:
    """Turn one consumed record into an engine input (never raises on bad input)."""
    source = SourceRef(topic=record.topic, partition=record.partition, offset=record.offset)
    value = record.value
    when = record.timestamp_ms / 1000.0
    if value is None or not value:
        return _rejected(
            record,
            source,
            when,
            error_class="EmptyRecord",
            code="empty",
            message="the record has no value",
        )
    digest = fingerprint(value)
    if origin == COMMAND:
        try:
            command = read_command(value)
        except ValidationError as exc:
            return _rejected(
                record,
                source,
                when,
                error_class="ValidationError",
                code="invalid-command",
                message=str(exc),
            )
        return Input(
            source=source, timestamp=when, fingerprint=digest, origin=origin, command=command
        )
    if origin == DELIVERY:
        try:
            delivery = read_record(value)
        except ValidationError as exc:
            return _rejected(
                record,
                source,
                when,
                error_class="ValidationError",
                code="invalid-record",
                message=str(exc),
            )
        try:
            signals = signals_of_record(delivery)
        except Exception as exc:  # noqa: BLE001 (a rule bug must not stop the partition)
            return _rejected(
                record,
                source,
                when,
                error_class=type(exc).__name__,
                code="classify-error",
                message=f"the record's reply could not be classified: {exc}",
            )
        return Input(
            source=source,
            timestamp=delivery.timestamp,
            fingerprint=digest,
            origin=origin,
            record=delivery,
            signals=signals,
        )
    try:
        result = process(value, attributor=attributor, limits=limits)
    except ParseError as exc:
        return _rejected(
            record, source, when, error_class=type(exc).__name__, code=exc.code, message=str(exc)
        )
    feedback = result.report.kind is Kind.FEEDBACK
    if feedback and result.attribution.reference:
        # One signed reference, one complaint: forged copies of a real one count once.
        digest = "ref:" + result.attribution.reference[:28]
    return Input(
        source=source,
        timestamp=when,
        fingerprint=digest,
        origin=FEEDBACK if feedback else BOUNCE,
        signals=result.signals,
    )


def _rejected(
    record: InRecord, source: SourceRef, when: float, *, error_class: str, code: str, message: str
) -> Input:
    return Input(
        source=source,
        timestamp=when,
        fingerprint="",
        origin="rejected",
        rejection=Rejection(error_class=error_class, code=code, message=message[:500]),
        raw=record.value or b"",
        key=record.key,
        headers=record.headers,
    )


def signals_of_record(delivery: DeliveryRecord) -> tuple[Signal, ...]:
    """A bounced or deferred record's reply, classified like a bounce (none for deliveries)."""
    if delivery.event is DeliveryEvent.DELIVERED:
        return ()
    entry = Entry(
        recipient=delivery.recipient,
        action=DsnAction.FAILED if delivery.event is DeliveryEvent.BOUNCED else DsnAction.DELAYED,
        status=delivery.enhanced_status,
        reply_code=delivery.reply_code,
        diagnostic=delivery.reply_text or "",
        diagnostic_type="smtp",
        remote_mta=delivery.mx_host,
    )
    report = Report(kind=Kind.DSN, format="delivery-record", entries=(entry,))
    attribution = Attribution(
        client=delivery.client,
        campaign=delivery.campaign,
        sending_ip=delivery.sending_ip,
        pool=delivery.pool,
        message_id=delivery.message_id,
        source=AttributionSource.DELIVERY_LOG,
    )
    return signals_of(report, attribution)
