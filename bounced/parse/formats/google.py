"""Gmail and Google Workspace notices without an RFC 3464 part.

Older Gmail notices (until about 2015) say "Delivery to the following recipient failed
permanently:" (or "has been delayed:"), list each address indented on a line of its own, then
"Technical details of permanent failure:" with Google's explanation and, after "The error that
the other server returned was:", the remote reply; a "(state N)" suffix names the SMTP stage.
Newer ones open with "** Address not found **" or "** Message not delivered **" and put the
remote reply after "The response was:". Both set X-Failed-Recipients.
"""

from __future__ import annotations

import re

from bounced.model import DsnAction, Entry, Reason
from bounced.parse import fields as F
from bounced.parse import notice
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry
from bounced.parse.message import Mail
from bounced.parse.notice import Hint

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats

_BEGIN = re.compile(
    r"^Delivery to the following recipients? (?:failed|has been delayed)|^\*\* ", re.M
)
# The failed address: indented on a line of its own (old notices) or in "Your message wasn't
# delivered to <addr> because ..." (new ones).
_RECIPIENT = re.compile(
    r"^[ \t]{2,}(?P<addr>" + F.LOCAL + "@" + F.DOMAIN + r")[ \t]*$|"
    r"wasn't delivered to (?P<addr2>" + F.LOCAL + "@" + F.DOMAIN + r")\b",
    re.M | re.A,
)
# Where the remote server's own words start, after Google's explanation.
_REMOTE_SAID = re.compile(
    r"The error that the other server returned was:|The response (?:from the remote server )?was:"
)
# Google's own failure sentences: it could not connect or resolve, or gave up retrying.
_HINTS: tuple[Hint, ...] = (
    (
        re.compile(r"DNS Error: (?:Domain name not found|DNS server returned answer with no data)"),
        R.HOSTUNKNOWN,
    ),
    (
        re.compile(
            r"The recipient server did not accept our requests to connect|"
            r"DNS Error: Could not contact DNS servers"
        ),
        R.EXPIRED,
    ),
)
# "(state N)": the stage of Gmail's SMTP client that failed (the commands Gmail documented).
_STATE = re.compile(r"\(state (\d{1,2})\)")
_STATE_COMMANDS = {
    "6": "MAIL",
    "8": "AUTH",
    "9": "AUTH",
    "12": "AUTH",
    "13": "EHLO",
    "14": "RCPT",
    "15": "DATA",
    "17": "DATA",
    "18": "DATA",
}
_BY_HOST = re.compile(r" by (?P<host>[\w.-]{1,253}\.[a-z]{2,63})\. \[[\d.:a-fA-F]{3,45}\]")


def _is_gmail(mail: Mail) -> bool:
    return "mailer-daemon@googlemail.com" in mail.sender and "Delivery Status Notification" in (
        mail.subject
    )


@REGISTRY.reader("gmail", _is_gmail)
def read_gmail(mail: Mail) -> list[Entry]:
    """Gmail: indented addresses (or X-Failed-Recipients), the remote reply when quoted."""
    text = mail.notice
    begin = _BEGIN.search(text)
    if begin is None:
        return []
    text = text[begin.start() :]
    found = notice.segments(text, _RECIPIENT)
    if not found:
        details = _details(text)
        found = [notice.Segment(address=a, text=details) for a in mail.failed_recipients]
    delayed = "has been delayed" in text[:200]
    entries = []
    for seg in found:
        details = _details(seg.text) if seg.text.strip() else _details(text)
        state = _STATE.search(details)
        host = _BY_HOST.search(seg.text) or _BY_HOST.search(text)
        hint = notice.hint_of(details, _HINTS)
        entries.append(
            make_entry(
                seg.address,
                details,
                action=DsnAction.DELAYED if delayed else None,
                command=_STATE_COMMANDS.get(state.group(1)) if state else None,
                remote_mta=host.group("host").lower() if host else None,
                hint=hint,
            )
        )
    return entries


def _details(text: str) -> str:
    """The remote server's words if Google quotes them, else Google's explanation.

    In the newer notices Google's explanation ("You're sending this from a different address
    ...") says what Google made of the reply, so it comes first.
    """
    said = _REMOTE_SAID.search(text)
    if said is not None:
        rest = text[said.end() :].strip()
        end = rest.find("\n\n")
        reply = rest if end < 0 else rest[:end]
        if text.lstrip().startswith("** "):
            paragraphs = [p for p in text.split("\n\n")[1:3] if p.strip()]
            if paragraphs and not _REMOTE_SAID.search(paragraphs[0]):
                return paragraphs[0].strip() + "\n" + reply
        return reply
    for marker in ("Technical details of ", "** "):
        at = text.find(marker)
        if at >= 0:
            body = text[at:].split("\n", 1)
            rest = body[1].strip() if len(body) > 1 else ""
            end = rest.find("\n\n")
            return (rest if end < 0 else rest[:end]) or body[0]
    return text
