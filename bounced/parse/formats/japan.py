"""Japanese carriers and ISPs: au (KDDI, EZweb), BIGLOBE, and the m-FILTER gateway.

Their notices put Japanese text first and an English block after; the markers below are the
English lines. au marks mail its spam filter refused with an "X-SPASIGN: NG" header, which
states the reason for every recipient of the notice.
"""

from __future__ import annotations

import re

from bounced.model import Entry, Reason
from bounced.parse import fields as F
from bounced.parse import notice
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry, received_has
from bounced.parse.message import Mail
from bounced.parse.notice import Hint, Layout

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats
_ADDR = F.LOCAL + "@" + F.DOMAIN

# --- au by KDDI (EZweb) -----------------------------------------------------------------------
# EZweb's "Mail System Error - Returned Mail": "<addr>" or "Recipient: <addr>" lines, with the
# reason in au's own words above or below.
_EZWEB_HINTS: tuple[Hint, ...] = (
    (re.compile(r"The user\(s\) account is (?:disabled|temporarily limited)\."), R.SUSPEND),
    (re.compile(r"The user\(s\) account is temporarily over quota"), R.MAILBOXFULL),
    (re.compile(r"Your message was not delivered within "), R.EXPIRED),
)
_EZWEB_LAYOUT = Layout(
    anchor=re.compile(
        r"^(?:[ \t]{0,8}Recipient: )?<(?P<addr>" + _ADDR + r")>", re.MULTILINE | re.ASCII
    ),
    end=re.compile(r"^-{40,}$", re.MULTILINE),
)


def _is_ezweb(mail: Mail) -> bool:
    score = int("Postmaster@ezweb.ne.jp" in mail.sender or "Postmaster@au.com" in mail.sender)
    score += mail.subject == "Mail System Error - Returned Mail"
    message_id = mail.field("message-id")
    score += ".ezweb.ne.jp>" in message_id or ".au.com>" in message_id
    score += received_has(mail, "ezweb.ne.jp (EZweb Mail) with") or received_has(mail, ".au.com (")
    return score >= 2


@REGISTRY.reader("ezweb", _is_ezweb)
def read_ezweb(mail: Mail) -> list[Entry]:
    """EZweb: recipients in angle brackets; au's own sentences and X-SPASIGN give reasons."""
    text = mail.notice
    filtered = mail.field("x-spasign").strip().upper() == "NG"
    overall = notice.hint_of(text, _EZWEB_HINTS)
    entries = []
    for seg in notice.segments(notice.region(text, _EZWEB_LAYOUT), _EZWEB_LAYOUT.anchor):
        hint = R.FILTERED if filtered else notice.hint_of(seg.text, _EZWEB_HINTS) or overall
        diagnostic = seg.text if seg.text.strip() else text
        entries.append(make_entry(seg.address, diagnostic, hint=hint))
    return entries


# KDDI's (au one net, DION) own notice: "Your mail sent on: ..." then "Could not be delivered
# to: <addr>" and the reason in KDDI's words.
REGISTRY.layout(
    "kddi",
    lambda mail: (
        ".dion.ne.jp" in mail.sender
        or "no-reply@app.auone-net.jp" in mail.field("reply-to")
        or ("Could not be delivered to: <" in mail.notice and "Your mail" in mail.notice[:400])
    ),
    Layout(
        anchor=re.compile(r"Could not be delivered to: <(?P<addr>" + _ADDR + r")>", re.ASCII),
        hints=(
            (re.compile(r"As their mailbox is full"), R.MAILBOXFULL),
            (re.compile(r"As the remote domain doesnt exist"), R.HOSTUNKNOWN),
        ),
    ),
)

# --- BIGLOBE ----------------------------------------------------------------------------------
# BIGLOBE and the cable ISPs on its platform: "----- The following addresses had delivery
# problems -----", the address, then "----- Non-delivered information -----" and the reason.
REGISTRY.layout(
    "biglobe",
    lambda mail: (
        mail.subject.startswith("Returned mail:")
        and any(f"@{isp}.ne.jp" in mail.sender for isp in ("biglobe", "inacatv", "tmtv", "ttv"))
    ),
    Layout(
        begin=re.compile(r"^ {0,4}-{5} The following addresses had delivery problems", re.M),
        anchor=re.compile(r"^(?P<addr>" + _ADDR + r")[ \t]*$", re.MULTILINE | re.ASCII),
        hints=(
            (
                re.compile(r"The number of messages in recipient's mailbox exceeded the local"),
                R.MAILBOXFULL,
            ),
        ),
    ),
)

# --- m-FILTER ---------------------------------------------------------------------------------
# Digital Arts m-FILTER: the address alone on a line, then "-------server message" with the
# reply and "-------SMTP command" with the command that failed.
_MFILTER_SECTION = re.compile(
    r"^-{7}(server message|SMTP command)[ \t]*\n(?P<value>[^\n]{1,2000})", re.MULTILINE
)
_MFILTER_RECIPIENT = re.compile(r"^(?P<addr>" + _ADDR + r")[ \t]*$", re.MULTILINE | re.ASCII)


def _is_mfilter(mail: Mail) -> bool:
    return mail.subject == "failure notice" and "-------server message" in mail.notice


@REGISTRY.reader("mfilter", _is_mfilter)
def read_mfilter(mail: Mail) -> list[Entry]:
    """m-FILTER: one block per recipient with the server's reply and the SMTP command."""
    entries = []
    for seg in notice.segments(mail.notice, _MFILTER_RECIPIENT):
        sections = {
            m.group(1): m.group("value").strip() for m in _MFILTER_SECTION.finditer(seg.text)
        }
        command = sections.get("SMTP command", "").split(" ")[0].upper() or None
        entries.append(
            make_entry(
                seg.address,
                sections.get("server message", seg.text),
                command=command
                if command in ("CONN", "EHLO", "HELO", "MAIL", "RCPT", "DATA")
                else None,
            )
        )
    return entries
