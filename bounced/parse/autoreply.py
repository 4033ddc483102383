"""RFC 3834 auto-replies: vacation and out-of-office notices are not bounces.

An auto-reply is recognised by its headers (Auto-Submitted: auto-replied, X-Autoreply,
X-Autorespond, Precedence: auto_reply, X-Auto-Response-Suppress alone is not enough) or by a
subject in one of the phrasings mail clients and servers use. It never yields a recipient to
act on, with one exception that real mail shows often enough: an automatic answer saying the
mailbox is no longer in use is a bounce of that mailbox in all but form.
"""

from __future__ import annotations

import re

from bounced.model import Entry, Kind, Reason, Report
from bounced.parse import fields as F
from bounced.parse.message import Mail
from bounced.parse.notice import reflow

# Subjects of auto-replies, from common clients and servers (Outlook/Exchange, Gmail, Zimbra,
# Dovecot Sieve vacation, iCloud, GMX, Japanese and European locales).
_SUBJECT = re.compile(
    r"^(?:(?:re|aw|sv|vs|antw|fw|tr):\s*)?(?:"
    r"auto(?:matic)?[ -]?(?:reply|response|answer|antwort|respuesta|risposta|r[ée]ponse)|"
    r"auto:|autoreply|autoresponder|out of (?:the )?office|away from (?:the |my )?office|"
    r"on vacation|vacation(?: reply| message|:)|abwesenheit|absence|abwesend|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|"
    r"automatisch(?:e)? antwort|fuera de la oficina|自動応答|自動返信|不在"
    r")",
    re.IGNORECASE,
)
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-mail-autoreply")
# A bounce's own marks: these senders and subjects are never auto-replies.
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery|mail-daemon", re.IGNORECASE)
# "This address is no longer in use" auto-replies, which mean the mailbox is gone.
_GONE = re.compile(
    r"(?:inbox|mailbox|address|account|e-?mail)\b(?:[^.\n]|\.\w){0,80}\b(?:is )?no longer "
    r"(?:in use|active|monitored|valid|being (?:used|monitored|checked))",
    re.IGNORECASE,
)


def is_auto_reply(mail: Mail) -> bool:
    """True when headers or subject mark the message as an automatic reply."""
    if _DAEMON.search(mail.sender):
        return False
    auto = mail.field("auto-submitted").lower()
    if auto.startswith("auto-replied"):
        return True
    if any(mail.has(name) for name in _AUTO_HEADERS):
        return True
    precedence = mail.field("precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        return True
    if mail.field("x-apple-action").lower().startswith("vacation"):  # iCloud vacation replies
        return True
    return bool(_SUBJECT.search(mail.subject))


def read_auto_reply(mail: Mail) -> Report | None:
    """An auto-reply report, or None if this is not one."""
    if not is_auto_reply(mail):
        return None
    entries: tuple[Entry, ...] = ()
    gone = _GONE.search(reflow(mail.notice[:4000]))
    who = mail.field("reply-to") or mail.sender
    address = F.find_address(who)
    if gone and address:
        entries = (
            Entry(recipient=address, diagnostic=F.collapse(gone.group(0)), hint=Reason.SUSPEND),
        )
        return Report(
            kind=Kind.BOUNCE,
            format="rfc3834",
            entries=entries,
            subject=mail.subject,
            sender=mail.sender,
            envelope_to=mail.envelope_to,
            original=mail.original,
        )
    return Report(
        kind=Kind.AUTO_REPLY,
        format="rfc3834",
        subject=mail.subject,
        sender=mail.sender,
        envelope_to=mail.envelope_to,
        original=mail.original,
    )
