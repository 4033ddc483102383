"""Amazon SES notifications in JSON (bounces, complaints, deliveries, delays).

SES publishes them through SNS, which mails them as a JSON envelope whose "Message" member is
itself a JSON string; SES event publishing uses ``eventType`` where the older notifications use
``notificationType``. They arrive mailed (often with a mail system's long-line breaks, ``!``
followed by a folded line, inside the JSON) or bare. Both are read here.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from bounced.model import DsnAction, Entry, Feedback, FeedbackType, Headers, Kind, Report
from bounced.parse import fields as F
from bounced.parse.message import Mail

# A long-line break that a relay inserted into the JSON text (sendmail style: "!" CRLF SP).
_LINE_BREAK = re.compile(r"!\n ")
_FEEDBACK_TYPES = {
    "abuse": FeedbackType.ABUSE,
    "fraud": FeedbackType.FRAUD,
    "virus": FeedbackType.VIRUS,
    "other": FeedbackType.OTHER,
    "not-spam": FeedbackType.NOT_SPAM,
    "auth-failure": FeedbackType.AUTH_FAILURE,
}


def looks_like_ses(text: str) -> bool:
    """Cheap test before any JSON is decoded: a brace first, which few notices have (a search
    for one character is the fastest), then the member that names the event."""
    return "{" in text and ("notificationType" in text or "eventType" in text)


def read_ses_text(text: str, mail: Mail | None = None) -> Report | None:
    """A report from the text of an SES notification (bare or mailed), or None."""
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    document = _loads(_LINE_BREAK.sub("", text[start : end + 1]))
    if isinstance(document, dict) and isinstance(document.get("Message"), str):
        document = _loads(document["Message"])
    if not isinstance(document, dict):
        return None
    event = document.get("notificationType") or document.get("eventType")
    if not isinstance(event, str):
        return None
    common = _common(mail, document)
    if event == "Bounce":
        return _bounce(document, common)
    if event == "Complaint":
        return _complaint(document, common)
    if event == "Delivery":
        return _delivery(document, common)
    if event == "DeliveryDelay":
        return _delay(document, common)
    return Report(kind=Kind.NOT_BOUNCE, format="ses-json", **common)


def read_ses(mail: Mail) -> Report | None:
    """A report for a mailed SES notification, or None if this is not one."""
    text = mail.notice or mail.body
    if not looks_like_ses(text):
        return None
    return read_ses_text(text, mail)


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _common(mail: Mail | None, document: dict[str, Any]) -> dict[str, Any]:
    source = _member(document, "mail")
    headers = [
        (item["name"].lower(), str(item.get("value", "")))
        for item in _items(source, "headers")
        if isinstance(item.get("name"), str)
    ]
    if source.get("messageId") and not any(n == "message-id" for n, _ in headers):
        headers.append(("x-ses-message-id", str(source["messageId"])))
    if isinstance(source.get("source"), str):
        headers.append(("x-ses-source", source["source"]))
    return {
        "subject": mail.subject if mail else "",
        "sender": mail.sender if mail else "",
        "envelope_to": mail.envelope_to if mail else (),
        "original": Headers(fields=tuple(headers)),
    }


def _member(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _items(container: Any, key: str) -> list[dict[str, Any]]:
    value = container.get(key) if isinstance(container, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _bounce(document: dict[str, Any], common: dict[str, Any]) -> Report:
    bounce = _member(document, "bounce")
    transient = bounce.get("bounceType") == "Transient"
    entries = []
    for item in _items(bounce, "bouncedRecipients"):
        address = F.clean_address(str(item.get("emailAddress", "")))
        if "@" not in address:
            continue
        diagnostic_type, diagnostic = F.split_type(str(item.get("diagnosticCode") or ""))
        status = F.preferred_status(
            F.find_status(str(item.get("status") or "")), F.find_status(diagnostic)
        )
        entries.append(
            Entry(
                recipient=address,
                action=DsnAction.DELAYED if transient and not status else DsnAction.FAILED,
                status=status,
                reply_code=F.find_reply_code(diagnostic),
                diagnostic=F.collapse(diagnostic),
                diagnostic_type=diagnostic_type,
                remote_mta=F.host_of(bounce.get("remoteMtaIp") or None),
                command=F.find_command(diagnostic),
            )
        )
    return Report(
        kind=Kind.DSN,
        format="ses-json",
        entries=tuple(entries),
        reporting_mta=F.host_of(str(bounce.get("reportingMTA") or "")),
        arrival_date=str(bounce.get("timestamp") or "") or None,
        **common,
    )


def _complaint(document: dict[str, Any], common: dict[str, Any]) -> Report:
    complaint = _member(document, "complaint")
    name = str(complaint.get("complaintFeedbackType") or "abuse").lower()
    feedback_type = _FEEDBACK_TYPES.get(name, FeedbackType.ABUSE)
    recipients = [
        F.clean_address(str(item.get("emailAddress", "")))
        for item in _items(complaint, "complainedRecipients")
    ]
    recipients = [a for a in recipients if "@" in a]
    feedback = Feedback(
        feedback_type=feedback_type,
        user_agent=str(complaint.get("userAgent") or "") or None,
        original_rcpt_to=tuple(recipients),
        arrival_date=str(complaint.get("arrivalDate") or complaint.get("timestamp") or "") or None,
    )
    return Report(
        kind=Kind.FEEDBACK,
        format="ses-json",
        entries=tuple(Entry(recipient=a, feedback_type=feedback_type) for a in recipients),
        feedback=feedback,
        arrival_date=feedback.arrival_date,
        **common,
    )


def _delivery(document: dict[str, Any], common: dict[str, Any]) -> Report:
    delivery = _member(document, "delivery")
    reply = str(delivery.get("smtpResponse") or "")
    entries = tuple(
        Entry(
            recipient=address,
            action=DsnAction.DELIVERED,
            status=F.find_status(reply) or "2.0.0",
            reply_code=F.find_reply_code(reply),
            diagnostic=F.collapse(reply),
            remote_mta=F.host_of(str(delivery.get("reportingMTA") or "")),
        )
        for address in (delivery.get("recipients") or [])
        if isinstance(address, str) and "@" in address
    )
    return Report(kind=Kind.DELIVERED, format="ses-json", entries=entries, **common)


def _delay(document: dict[str, Any], common: dict[str, Any]) -> Report:
    delay = _member(document, "deliveryDelay")
    entries = []
    for item in _items(delay, "delayedRecipients"):
        address = F.clean_address(str(item.get("emailAddress", "")))
        diagnostic = str(item.get("diagnosticCode") or "")
        if "@" in address:
            entries.append(
                Entry(
                    recipient=address,
                    action=DsnAction.DELAYED,
                    status=F.preferred_status(
                        F.find_status(str(item.get("status") or "")), F.find_status(diagnostic)
                    ),
                    reply_code=F.find_reply_code(diagnostic),
                    diagnostic=F.collapse(diagnostic),
                    remote_mta=F.host_of(str(delay.get("reportingMTA") or "")),
                )
            )
    return Report(kind=Kind.DSN, format="ses-json", entries=tuple(entries), **common)
