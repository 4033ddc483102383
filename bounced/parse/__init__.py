"""bytes -> Report: the parser.

Readers are tried from the most to the least specific: feedback reports (ARF, JMRP, unsubscribe
notices), Amazon SES JSON, RFC 3464 delivery status notifications (a status part, or the same
fields pasted into the text), auto-replies, the per-MTA plain-text formats, and last the
heuristics that read any notice that calls itself a bounce.

A DSN's machine-readable fields are the reference for who failed and with which status, but
they often leave things out that the human-readable notice says: the SMTP command ("in reply
to RCPT TO command"), the reply when there is no Diagnostic-Code or one without words
("X-Unix; 255"), the address when Final-Recipient is a pipe or a bare domain. The notice is
read with the same format readers as a plain-text bounce and what it says about each recipient
fills those gaps; failing that, the sentence above the list of recipients, or the Status
field's comment, is the diagnostic. A Status that only says the MTA gave up retrying (x.4.7)
takes the code of the remote reply that the notice quotes for the recipient.

The contract: any bytes in, a `Report` out or `ParseError` raised, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bounced.errors import ParseError
from bounced.model import DsnAction, Entry, Kind, Report
from bounced.parse import dsn, heuristics, notice
from bounced.parse import fields as F
from bounced.parse import formats as _formats
from bounced.parse.autoreply import read_auto_reply
from bounced.parse.feedback import read_feedback
from bounced.parse.fields import find_command, host_of
from bounced.parse.message import Mail
from bounced.parse.mime import DEFAULT_LIMITS, Limits, Part, parse_message
from bounced.parse.ses import read_ses, read_ses_text

__all__ = ["DEFAULT_LIMITS", "Limits", "ParseError", "parse"]

_PASSING = frozenset({DsnAction.DELIVERED, DsnAction.RELAYED, DsnAction.EXPANDED})
# Subjects of delay warnings (sendmail and its clones "Warning: could not send message for past
# 4 hours", Exim "Warning: message ... delayed", Postfix "Delayed Mail (still being retried)").
# Searched in the lower-cased subject: a case-insensitive alternation with no literal to skip to
# costs the engine every alternative at every position, two to three times the time.
_DELAY_SUBJECT = re.compile(
    r"^warning\b|delayed mail|still being retried|delivery delayed|has not yet been delivered|"
    r"delivery status notification \(delay\)"
)


# A word of three letters or more, in any script.
_WORD = re.compile(r"[^\W\d_]{3}")


def parse(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Read one message (RFC 5322 bytes, or a bare SES JSON notification) into a Report."""
    try:
        if raw[:1] == b"{" or raw.lstrip()[:1] == b"{":
            report = read_ses_text(raw.decode("utf-8", "replace"))
            if report is not None:
                return report
        return _read(Mail(_message(raw, limits), limits))
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the message is nested too deeply to read", code="mime-depth") from exc
    except Exception as exc:  # a reader bug must not take the daemon down: report it as input
        raise ParseError(
            f"the message could not be read ({type(exc).__name__}: {exc})", code="reader-error"
        ) from exc


def _message(raw: bytes, limits: Limits) -> Part:
    root = parse_message(raw, limits)
    if not root.index:
        raise ParseError(
            "the input has no header fields: it is not an e-mail message", code="not-a-message"
        )
    return root


def _read(mail: Mail) -> Report:
    report = read_feedback(mail) or read_ses(mail)
    if report is not None:
        return report
    status_part = mail.status_part
    status_text = status_part.text() if status_part is not None else dsn.find_inline(mail.notice)
    if status_text:
        report = _read_dsn(mail, status_text)
        if report is not None:
            return report
    auto = read_auto_reply(mail)
    if auto is not None and auto.kind is Kind.AUTO_REPLY:
        return auto
    found = _format_entries(mail)
    if found is not None:
        return _bounce(mail, found[0], found[1])
    wrapped = _wrapped_bounce(mail)
    if wrapped is not None:
        return wrapped
    if auto is not None:
        return auto
    if status_part is not None or heuristics.looks_like_bounce(mail):
        entries = heuristics.read_notice(mail)
        if not entries and status_part is None:
            # flufl.bounce's detectors read notices; a report whose delivery-status part names
            # no recipient ("Delivery report unavailable") has none for them to read.
            entries = heuristics.library_recipients(mail)
        entries = entries or heuristics.fallback_recipients(mail)
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


def _format_entries(mail: Mail) -> tuple[str, list[Entry]] | None:
    """The recipients the notice names, read by the first format that knows it."""
    for fmt in _formats.FORMATS:
        if fmt.detect(mail):
            entries = fmt.read(mail)
            if entries:
                if is_delay_warning(mail.subject):
                    entries = [_delayed(e) for e in entries]
                return fmt.name, _whole_replies(entries, mail.notice)
    return None


def is_delay_warning(subject: str) -> bool:
    """True for the subject of a delay warning, in any case ("warning" only as its first word)."""
    return _DELAY_SUBJECT.search(subject.lower()) is not None


def _delayed(entry: Entry) -> Entry:
    """A failure read from a delay warning is a delay, unless its code says it is final."""
    if entry.action is DsnAction.FAILED and not (entry.status or "").startswith("5"):
        return replace(entry, action=DsnAction.DELAYED)
    return entry


def _notice_entries(mail: Mail) -> list[Entry]:
    """What the notice says about each recipient: by its format, else by the heuristics."""
    found = _format_entries(mail)
    if found is not None:
        return found[1]
    return heuristics.read_notice(mail)


def _wrapped_bounce(mail: Mail) -> Report | None:
    """The report of a bounce that this message wraps (forwarded, or quoted by a relay)."""
    inner = mail.returned
    if inner is None or not (
        inner.content_type == "multipart/report"
        or heuristics.DAEMON_SENDER.search(inner.sender)
        or inner.status_part is not None
    ):
        return None
    report = _read(inner)
    if report.kind not in (Kind.DSN, Kind.BOUNCE) or not report.entries:
        return None
    return replace(report, subject=mail.subject, sender=mail.sender, envelope_to=mail.envelope_to)


def _read_dsn(mail: Mail, status_text: str) -> Report | None:
    fields = dsn.parse_status(status_text)
    groups = fields.recipients
    told: list[Entry] | None = None
    if not groups:
        return None
    recipients = [group.recipient for group in groups]
    if None in recipients:
        told = _notice_entries(mail)
        stand_ins = mail.failed_recipients + [e.recipient for e in told]
    else:
        stand_ins = mail.failed_recipients
    entries = [entry for _, entry in dsn.read_groups(fields, stand_ins, recipients)]
    if not entries:
        return None
    failing = [e for e in entries if e.action not in _PASSING]
    if any(_thin(e.diagnostic) for e in failing):
        # Nothing from the remote host in the fields: read the notice as a whole.
        if told is None:
            told = _notice_entries(mail)
        entries = _complete(entries, told)
    elif any(e.command is None for e in failing):
        alone = len(failing) == 1
        entries = [_command_from_notice(e, mail.notice, alone) for e in entries]
    if any(not e.diagnostic for e in failing):
        entries = [_lead_in(e, mail.notice) for e in entries]
    entries = _whole_replies(entries, mail.notice)
    if any(_gave_up(e) for e in failing):
        if told is None:
            told = _notice_entries(mail)
        entries = _why_given_up(entries, told)
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


def _lead_in(entry: Entry, text: str) -> Entry:
    """The entry with the notice's lead-in sentence as diagnostic, if it had none."""
    if entry.diagnostic or entry.action in _PASSING:
        return entry
    lead = notice.lead_in(text, entry.recipient)
    return replace(entry, diagnostic=F.collapse(lead)) if lead else entry


def _command_from_notice(entry: Entry, text: str, alone: bool = False) -> Entry:
    """The entry with the SMTP command its paragraph of the notice names, if it lacked one
    (`alone`: the notice is about this recipient only)."""
    if entry.command is not None or entry.action in _PASSING:
        return entry
    command = find_command(notice.paragraph(text, entry.recipient))
    if command is None and ("<<<" in text or ">>>" in text):
        command = notice.transcript_command(text, entry.recipient, alone)
    return entry if command is None else replace(entry, command=command)


def _whole_replies(entries: list[Entry], text: str) -> list[Entry]:
    """The entries with the whole replies the notice's session transcript holds, for those
    whose diagnostic quotes the first line of a multi-line reply only."""
    if "<<<" not in text:
        return entries
    out = []
    for entry in entries:
        whole = None if entry.action in _PASSING else notice.whole_reply(text, entry.diagnostic)
        out.append(entry if whole is None else replace(entry, diagnostic=whole))
    return out


def _thin(diagnostic: str) -> bool:
    """True for a diagnostic without a word in it ("", "255", "smtp; 550"): the notice
    probably says more."""
    return _WORD.search(diagnostic) is None


def _complete(entries: list[Entry], told: list[Entry]) -> list[Entry]:
    """Fill what the DSN fields left out with what the notice says about the same recipient."""
    by_address = {e.recipient.lower(): e for e in told}
    if len(told) == 1 and len(entries) == 1:
        by_address.setdefault(entries[0].recipient.lower(), told[0])
    out = []
    for entry in entries:
        other = by_address.get(entry.recipient.lower())
        if other is None and entry.original_recipient:
            other = by_address.get(entry.original_recipient.lower())
        if other is None:
            out.append(entry)
            continue
        diagnostic = other.diagnostic if _thin(entry.diagnostic) else entry.diagnostic
        diagnostic = diagnostic or entry.diagnostic
        out.append(
            replace(
                entry,
                diagnostic=diagnostic,
                command=entry.command or other.command,
                reply_code=entry.reply_code or other.reply_code,
                remote_mta=entry.remote_mta or other.remote_mta,
                hint=entry.hint or other.hint,
                status=entry.status or other.status,
            )
        )
    return out


def _gave_up(entry: Entry) -> bool:
    """True for a failure whose only code is x.4.7: the MTA gave up retrying, not saying why."""
    return entry.action not in _PASSING and (entry.status or "")[1:] == ".4.7"


def _why_given_up(entries: list[Entry], told: list[Entry]) -> list[Entry]:
    """Entries whose status was only x.4.7 get the code of the remote host's reply that the
    notice quotes for the same recipient (Exchange lists each attempt's reply under "Remote
    Server returned"): that code says why the attempts failed."""
    by_address = {e.recipient.lower(): e for e in told}
    out = []
    for entry in entries:
        other = by_address.get(entry.recipient.lower()) if _gave_up(entry) else None
        codes = F.find_statuses(other.diagnostic) if other is not None else []
        why = next((c for c in codes if c[1:] != ".4.7" and not c.endswith(".0.0")), None)
        out.append(entry if why is None else replace(entry, status=why))
    return out


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
