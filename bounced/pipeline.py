"""The pure pipeline for one message: parse, classify, attribute -> signals.

No I/O here: the daemon and the CLI call `process` and decide what to do with the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bounced.classify import verdicts
from bounced.model import UNATTRIBUTED, Attribution, AttributionSource, Report, Signal
from bounced.parse import DEFAULT_LIMITS, Limits, ParseError, parse

Attributor = Callable[[Report], Attribution]


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What one message yielded."""

    report: Report
    signals: tuple[Signal, ...]
    attribution: Attribution = UNATTRIBUTED  # for the report as a whole, before `bind`


def signals_of(report: Report, attribution: Attribution = UNATTRIBUTED) -> tuple[Signal, ...]:
    """One signal per recipient to act on.

    A signed attribution follows only the recipient its reference is bound to (`bind`). A
    complaint whose recipients are redacted keeps the report's signed attribution: the client is
    proven even though the address is not, and the engine counts such a reference once.
    """
    if attribution.source is AttributionSource.SIGNED_REFERENCE:
        # Imported here: attribution and signing cost ~10 ms of start-up, and only a signed
        # attribution needs binding (any other is the same for every recipient).
        from bounced.attribute import bind  # noqa: PLC0415
    else:
        bind = _unbound
    redacted = (
        report.feedback is not None
        and report.feedback.redacted
        and attribution.source is AttributionSource.SIGNED_REFERENCE
        and attribution.recipient is None
    )
    return tuple(
        Signal(
            recipient=entry.recipient,
            kind=report.kind,
            reason=verdict.reason,
            category=verdict.category,
            action=verdict.action,
            hard=verdict.hard,
            status=verdict.status,
            reply_code=verdict.reply_code,
            provider=verdict.provider,
            diagnostic=entry.diagnostic,
            remote_mta=entry.remote_mta,
            command=entry.command,
            feedback_type=entry.feedback_type,
            attribution=(
                attribution
                if redacted
                else bind(attribution, entry.recipient, entry.original_recipient)
            ),
        )
        for entry, verdict in verdicts(report)
    )


def _unbound(attribution: Attribution, *_addresses: str | None) -> Attribution:
    return attribution


def process(
    raw: bytes, *, attributor: Attributor | None = None, limits: Limits = DEFAULT_LIMITS
) -> Result:
    """Parse, classify and attribute one message. Raises only `ParseError`.

    A failure after parsing (a bug in a classification or attribution rule) is also reported as
    a `ParseError`, with its own code: the input then goes to the dead-letter topic, from which it
    can be replayed once the rule is fixed, and the daemon carries on.
    """
    report = parse(raw, limits)
    try:
        attribution = attributor(report) if attributor is not None else UNATTRIBUTED
        signals = signals_of(report, attribution)
    except Exception as exc:
        raise ParseError(
            f"the message could not be classified ({type(exc).__name__}: {exc})",
            code="classify-error",
        ) from exc
    return Result(report=report, signals=signals, attribution=attribution)
