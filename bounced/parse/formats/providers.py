"""Mailbox providers with notices of their own: Yahoo, GMX, 1&1, Zoho, Verizon.

Each is recognised by a header only that provider sets (X-YMailISG, X-GMX-Antispam,
X-ZohoMail) or by its bounce sender, and read with a layout: where the list of recipients
starts, the line that names each one.
"""

from __future__ import annotations

import re

from bounced.model import Entry, Reason
from bounced.parse import fields as F
from bounced.parse import notice
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry
from bounced.parse.message import Mail
from bounced.parse.notice import Layout, read_layout

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats
_ADDR = F.LOCAL + "@" + F.DOMAIN

# --- Yahoo ------------------------------------------------------------------------------------
# Yahoo! Mail's qmail-derived notice: "Sorry, we were unable to deliver your message to the
# following address." then "<addr>:" and "Remote host said: ..." lines.
REGISTRY.layout(
    "yahoo",
    lambda mail: mail.has("x-ymailisg"),
    Layout(
        begin=re.compile(r"^Sorry, we were unable to deliver your message", re.MULTILINE),
        end=re.compile(r"^-{2,} ?Below this line is a copy of the message", re.MULTILINE),
        anchor=re.compile(r"^<(?P<addr>" + _ADDR + r")>:", re.MULTILINE | re.ASCII),
    ),
)

# --- GMX and 1&1 ------------------------------------------------------------------------------
# GMX and 1&1 (United Internet) run the same notice: Exim's opening sentence, then the address
# quoted or bracketed on its own line ("addr": / <addr>), "SMTP error from remote server ...",
# "host: ...", the reply; or "For the following reason:". Their retry timeout is their own.
_UNITED_BEGIN = re.compile(
    r"^This message was created automatically by mail delivery software", re.MULTILINE
)
_UNITED_END = re.compile(r"^-{2,} The header of the original message is following", re.M)
_UNITED_HINTS = (
    (re.compile(r"delivery retry timeout exceeded"), R.EXPIRED),
    (re.compile(r"Mail size limit exceeded"), R.MESGTOOBIG),
)
REGISTRY.layout(
    "gmx",
    lambda mail: mail.has("x-gmx-antispam"),
    Layout(
        begin=_UNITED_BEGIN,
        end=_UNITED_END,
        anchor=re.compile(
            r"^[ \t]{0,4}[\"<](?P<addr>" + _ADDR + r")[\">]:?[ \t]*$", re.MULTILINE | re.ASCII
        ),
        hints=_UNITED_HINTS,
    ),
)
REGISTRY.layout(
    "1and1",
    lambda mail: (
        mail.sender.startswith('"Mail Delivery System"')
        and mail.subject == "Mail delivery failed: returning message to sender"
        and "The header of the original message is following" in mail.body
    ),
    Layout(
        begin=_UNITED_BEGIN,
        end=_UNITED_END,
        anchor=re.compile(r"^[ \t]{0,4}<?(?P<addr>" + _ADDR + r")>?:?[ \t]*$", re.M | re.A),
        hints=_UNITED_HINTS,
    ),
)

# --- Zoho -------------------------------------------------------------------------------------
# Zoho Mail: "addr Invalid Address, ERROR_CODE :550, ERROR_CODE :<reply>" per recipient, or
# "[Status: Error, Address: <addr>, ResponseCode 421, , Host not reachable.]" for deferrals.
_ZOHO_LAYOUT = Layout(
    begin=re.compile(r"^This message was created automatically by mail delivery", re.MULTILINE),
    anchor=re.compile(
        r"^(?:(?P<addr>" + _ADDR + r") [^\n]{0,80}ERROR_CODE|\[Status: [^\n]{0,40}Address: <"
        r"(?P<addr2>" + _ADDR + r")>)",
        re.MULTILINE | re.ASCII,
    ),
    hints=((re.compile(r"Host not reachable"), R.EXPIRED),),
)


def _is_zoho(mail: Mail) -> bool:
    return mail.has("x-zohomail")


@REGISTRY.reader("zoho", _is_zoho)
def read_zoho(mail: Mail) -> list[Entry]:
    """Zoho: one line per recipient carrying both the address and the reply."""
    text = mail.notice
    begin = _ZOHO_LAYOUT.begin.search(text) if _ZOHO_LAYOUT.begin else None
    entries: list[Entry] = []
    # A recipient's line folded at the notice's line width goes on, indented, on the next.
    for line in notice.unfold(text[begin.end() :] if begin else text).split("\n"):
        match = _ZOHO_LAYOUT.anchor.match(line)
        if match is None:
            continue
        address = match.group("addr") or match.group("addr2")
        rest = line[match.end("addr") :] if match.group("addr") else line
        entries.append(make_entry(address, rest, hint=notice.hint_of(line, _ZOHO_LAYOUT.hints)))
    return entries


# --- Verizon ----------------------------------------------------------------------------------
# Verizon Wireless gateways (vtext.com, vzwpix.com): "Error: <reason>" then "Message details:"
# with "RCPT TO: <addr>"; Apache James writes the same "Message details" block.
_DETAILS_LAYOUT = Layout(
    anchor=re.compile(r"^ {0,4}RCPT TO: ?<?(?P<addr>" + _ADDR + r")>?", re.M | re.A | re.I),
)


def _is_verizon(mail: Mail) -> bool:
    sender = mail.sender.lower()
    return "post_master@vtext.com" in sender or ("sysadmin@" in sender and ".vzwpix.com" in sender)


@REGISTRY.reader("verizon", _is_verizon)
def read_verizon(mail: Mail) -> list[Entry]:
    """Verizon: the error above "Message details:", the recipient in its RCPT TO line."""
    return details_entries(mail)


def details_entries(mail: Mail, fallback: bool = True) -> list[Entry]:
    """Entries for a notice whose reason comes before a "Message details:" block.

    Without that block, the returned message's addressee stands in only when `fallback` is
    set (a sender that only ever writes this notice).
    """
    text = mail.notice
    at = text.find("Message details:")
    if at < 0 and not fallback:
        return []
    head, details = (text[:at], text[at:]) if at >= 0 else ("", text)
    found = read_layout(details, _DETAILS_LAYOUT)
    if not found:
        return [make_entry(a, head or text) for a in mail.original_recipients[:1]]
    return [make_entry(e.recipient, head.strip() or e.diagnostic) for e in found]
