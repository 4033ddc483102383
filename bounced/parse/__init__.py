"""bytes -> Report: the parser.

Readers are tried from the most to the least specific: feedback reports (ARF, JMRP, unsubscribe
notices), Amazon SES JSON, RFC 3464 delivery status notifications, auto-replies, the per-MTA
plain-text formats, and last the heuristics that read any notice that calls itself a bounce.
The contract: any bytes in, a `Report` out or `ParseError` raised, nothing else.
"""

from __future__ import annotations

from bounced.errors import ParseError
from bounced.model import DsnAction, Entry, Kind, Report
from bounced.parse import dsn, heuristics
from bounced.parse import formats as _formats
from bounced.parse.autoreply import read_auto_reply
from bounced.parse.feedback import read_feedback
from bounced.parse.fields import host_of
from bounced.parse.message import Mail
from bounced.parse.mime import DEFAULT_LIMITS, Limits, parse_message
from bounced.parse.ses import read_ses, read_ses_text

__all__ = ["DEFAULT_LIMITS", "Limits", "ParseError", "parse"]

_PASSING = frozenset({DsnAction.DELIVERED, DsnAction.RELAYED, DsnAction.EXPANDED})


def parse(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Read one message (RFC 5322 bytes, or a bare SES JSON notification) into a Report."""
    try:
        if raw[:1] == b"{" or raw.lstrip()[:1] == b"{":
            report = read_ses_text(raw.decode("utf-8", "replace"))
            if report is not None:
                return report
        return _read(Mail(parse_message(raw, limits)))
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the message is nested too deeply to read", code="mime-depth") from exc
    except Exception as exc:  # a reader bug must not take the daemon down: report it as input
        raise ParseError(
            f"the message could not be read ({type(exc).__name__}: {exc})", code="reader-error"
        ) from exc


def _read(mail: Mail) -> Report:
    report = read_feedback(mail) or read_ses(mail)
    if report is not None:
        return report
    status_part = mail.status_part
    if status_part is not None:
        report = _read_dsn(mail, status_part.text())
        if report is not None:
            return report
    auto = read_auto_reply(mail)
    if auto is not None and auto.kind is Kind.AUTO_REPLY:
        return auto
    for fmt in _formats.FORMATS:
        if fmt.detect(mail):
            entries = fmt.read(mail)
            if entries:
                return _bounce(mail, fmt.name, entries)
    if auto is not None:
        return auto
    if heuristics.looks_like_bounce(mail):
        entries = heuristics.read_notice(mail)
        if entries:
            return _bounce(mail, "heuristic", entries)
    return Report(
        kind=Kind.NOT_BOUNCE,
        format="none",
        subject=mail.subject,
        sender=mail.sender,
        envelope_to=mail.envelope_to,
        original=mail.original,
    )


def _read_dsn(mail: Mail, status_text: str) -> Report | None:
    fields = dsn.parse_status(status_text)
    entries = dsn.entries_from_status(fields, mail.notice)
    if not entries:
        return None
    kind = Kind.DELIVERED if all(e.action in _PASSING for e in entries) else Kind.DSN
    return Report(
        kind=kind,
        format="rfc3464",
        entries=tuple(entries),
        subject=mail.subject,
        sender=mail.sender,
        envelope_to=mail.envelope_to,
        reporting_mta=host_of(fields.message.get("reporting-mta")),
        arrival_date=fields.message.get("arrival-date"),
        original=mail.original,
    )


def _bounce(mail: Mail, name: str, entries: list[Entry]) -> Report:
    return Report(
        kind=Kind.BOUNCE,
        format=name,
        entries=tuple(entries),
        subject=mail.subject,
        sender=mail.sender,
        envelope_to=mail.envelope_to,
        original=mail.original,
    )
