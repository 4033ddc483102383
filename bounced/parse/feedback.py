"""Feedback reports: complaints, auth-failure reports and unsubscribe notices.

Readers, in the order they are tried:

* RFC 5965 ARF (and its RFC 6591 auth-failure profile): a multipart/report whose
  message/feedback-report part holds Feedback-Type, Original-Rcpt-To and the rest. Field names
  are matched case-insensitively (providers write Source-Ip, Source-IP, source-ip). When the
  report has no recipient, or only a redacted or hashed one, the recipient is read from the
  reported message's headers when they name one.
* Microsoft's legacy JMRP: multipart/mixed from a Hotmail staff address, with only the reported
  message attached; the recipient is in its X-HmXmrOriginalRecipient header.
* Apple Mail's one-click unsubscribe: a plain message with ``X-Apple-Unsubscribe: true``; the
  address to act on is the sender's (the person unsubscribing).
"""

from __future__ import annotations

import re

from bounced.model import Entry, Feedback, FeedbackType, Headers, Kind, Report
from bounced.parse import fields as F
from bounced.parse.message import Mail
from bounced.parse.mime import parse_header_block

_FEEDBACK_TYPES = {
    "abuse": FeedbackType.ABUSE,
    "fraud": FeedbackType.FRAUD,
    "virus": FeedbackType.VIRUS,
    "other": FeedbackType.OTHER,
    "not-spam": FeedbackType.NOT_SPAM,
    "auth-failure": FeedbackType.AUTH_FAILURE,
    "dkim": FeedbackType.AUTH_FAILURE,  # pre-RFC 6591 drafts
    "opt-out": FeedbackType.OPT_OUT,
    "opt-out-list": FeedbackType.OPT_OUT,
    "unsubscribe": FeedbackType.OPT_OUT,
    "complaint": FeedbackType.ABUSE,
}
# Local parts that providers substitute for the real one when they redact a report.
_REDACTED = re.compile(
    r"^(?:redacted|x{3,}|\*{3,}|undisclosed|anonymi[sz]ed|hidden|removed|[0-9a-f]{16,}|"
    r"[A-Za-z0-9+/=_-]{32,})$",
    re.IGNORECASE,
)
# Microsoft's JMRP senders (staff@hotmail.com too: any address at hotmail.com). The pattern
# opens with "@", which lets the engine skip to it: a case-insensitive letter first would be
# tried at every position.
_JMRP_SENDERS = re.compile(r"@(?:[\w-]+\.)*(?:hotmail|msn|outlook|live)\.com", re.I)
_JMRP_SUBJECT = re.compile(r"complaint about message from", re.IGNORECASE)
_UNDISCLOSED = re.compile(r"undisclosed|unlisted|recipients? suppressed", re.IGNORECASE)


def is_redacted(address: str) -> bool:
    """True when the local part is a placeholder or a hash rather than a mailbox name."""
    local = address.rpartition("@")[0]
    return bool(local) and bool(_REDACTED.match(local))


def read_feedback(mail: Mail) -> Report | None:
    """A report for any kind of feedback message, or None if this is not one."""
    part = mail.feedback_part
    if part is not None:
        return _read_arf(mail, parse_header_block(_fields_only(part.text())))
    if mail.content_type == "multipart/report" and "feedback-report" in (
        mail.root.params.get("report-type") or ""
    ):
        return _read_arf(mail, Headers())
    if mail.field("x-apple-unsubscribe").strip().lower() == "true":
        return _read_unsubscribe(mail)
    if _is_jmrp(mail):
        return _read_jmrp(mail)
    return None


def _fields_only(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if line.strip())


def _read_arf(mail: Mail, fields: Headers) -> Report:
    type_name = (fields.get("feedback-type") or "abuse").strip().lower().split()[0]
    feedback_type = _FEEDBACK_TYPES.get(type_name, FeedbackType.OTHER)
    original = mail.original
    rcpt_to = [F.clean_address(v) for v in fields.get_all("original-rcpt-to") if v.strip()]
    rcpt_to = [a for a in rcpt_to if "@" in a]
    recipients = list(rcpt_to)
    redacted = fields.get("redacted-address") is not None
    if not recipients:
        recipients = _recipients_from_original(original)
    elif all(is_redacted(a) for a in recipients):
        redacted = True
        better = _recipients_from_original(original)
        if better and not all(is_redacted(a) for a in better):
            recipients = better
    if not recipients:
        recipients = [F.clean_address(v) for v in fields.get_all("removal-recipient")]
        recipients = [a for a in recipients if "@" in a]
    source_ip = (fields.get("source-ip") or "").split()
    feedback = Feedback(
        feedback_type=feedback_type,
        user_agent=fields.get("user-agent"),
        version=fields.get("version"),
        source_ip=source_ip[0].strip("[]();,") if source_ip else None,
        original_mail_from=F.clean_address(fields.get("original-mail-from") or "") or None,
        original_rcpt_to=tuple(rcpt_to),
        arrival_date=fields.get("arrival-date") or fields.get("received-date"),
        reported_domain=tuple(v.strip() for v in fields.get_all("reported-domain")),
        reported_uri=tuple(v.strip() for v in fields.get_all("reported-uri")),
        removal_recipient=tuple(F.clean_address(v) for v in fields.get_all("removal-recipient")),
        authentication_results=tuple(fields.get_all("authentication-results")),
        auth_failure=(fields.get("auth-failure") or None),
        incidents=_int(fields.get("incidents")),
        redacted=redacted or any(is_redacted(a) for a in recipients),
    )
    return _report(mail, "arf", feedback, recipients)


def _recipients_from_original(original: Headers) -> list[str]:
    for name in ("x-hmxmroriginalrecipient", "to", "x-original-to", "delivered-to"):
        value = original.get(name)
        if not value or _UNDISCLOSED.search(value):
            continue
        found = F.find_addresses(value)
        if found:
            return found
    return []


def _is_jmrp(mail: Mail) -> bool:
    if mail.original_part is None:
        return False
    if mail.original_mentions("x-hmxmroriginalrecipient") and (
        "x-hmxmroriginalrecipient" in mail.original
    ):
        return True
    return bool(_JMRP_SENDERS.search(mail.sender) and _JMRP_SUBJECT.search(mail.subject))


def _read_jmrp(mail: Mail) -> Report:
    original = mail.original
    recipients = _recipients_from_original(original)
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE,
        user_agent="JMRP",
        source_ip=(original.get("x-reporter-ip") or _subject_ip(mail.subject)),
        original_mail_from=F.find_address(original.get("x-sid-pra") or original.get("from") or ""),
        redacted=any(is_redacted(a) for a in recipients),
    )
    return _report(mail, "jmrp", feedback, recipients)


def _subject_ip(subject: str) -> str | None:
    match = re.search(r"(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]{3,39}:[0-9a-fA-F]{1,4})\s*$", subject)
    return match.group(1) if match else None


def _read_unsubscribe(mail: Mail) -> Report:
    recipients = [mail.sender_address] if mail.sender_address else []
    feedback = Feedback(feedback_type=FeedbackType.OPT_OUT, user_agent="Apple Mail")
    return _report(mail, "apple-unsubscribe", feedback, recipients)


def _report(mail: Mail, fmt: str, feedback: Feedback, recipients: list[str]) -> Report:
    entries = tuple(
        Entry(recipient=address, feedback_type=feedback.feedback_type)
        for address in dict.fromkeys(recipients)
    )
    return Report(
        kind=Kind.FEEDBACK,
        format=fmt,
        entries=entries,
        subject=mail.subject,
        sender=mail.sender,
        envelope_to=mail.envelope_to,
        arrival_date=feedback.arrival_date,
        original=mail.original,
        feedback=feedback,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
