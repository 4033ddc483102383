"""The last resort: read a plain-text bounce of a format no reader knows.

How it works: a message is taken for a bounce only if it says so (a delivery-system sender, a
bounce subject, or a null Return-Path with bounce wording). The notice, the text before the
returned message, is then searched for recipients in tiers, most specific first: an address
alone at the start of a line or followed by a colon or an error; an address after
"recipient" or "RCPT TO"; an address in angle brackets; finally any address. The first tier
that finds one wins, so that a "contact postmaster@..." further down never outranks a real
recipient line. Each recipient's diagnostic is the text that follows it up to the next
recipient or the end of its paragraph. Addresses of the report's own sender and recipient and
of the returned message's sender are never recipients.
"""

from __future__ import annotations

import re

from bounced.model import DsnAction, Entry
from bounced.parse import fields as F
from bounced.parse.message import Mail

# Who sends bounces (From: display names and local parts).
DAEMON_SENDER = re.compile(
    r"mailer[-_ ]?daemon|postmaster|mail[-_ ]?daemon|mail delivery (?:subsystem|system)|"
    r"mail administrator|delivery (?:status )?notification|internet mail delivery|"
    r"(?:mail|message) ?router|mdaemon|smtp ?gateway|\bbounces?@|\bnobody@|"
    r"system administrator|mail ?system|microsoftexchange|returned mail",
    re.IGNORECASE,
)
# Subjects of bounces across MTAs and locales.
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not (?:be )?delivered|non[- ]?deliver|returned (?:mail|to sender)|"
    r"return(?:ed)? message|delivery (?:status|failure|failed|problem|report|notification|error|"
    r"has failed)|failure notice|failed delivery|mail delivery failed|delivery to the following|"
    r"could not (?:send|deliver)|mail (?:system )?error|message (?:status|not delivered|delivery)|"
    r"delivery incomplete|warning: (?:could not|message)|rejected|bounce|unzustellbar|"
    r"non remis|no entregado|non recapitabile|onbestelbaar|nie dostarczono|"
    r"配信|エラー|未達|不達|unable to deliver|permanent error|mail failure|nondeliverable|"
    r"delivery notification",
    re.IGNORECASE,
)
# Wording of a bounce body, for messages with a null sender but nothing else to go by.
BOUNCE_WORDING = re.compile(
    r"could not be delivered|was not delivered|undeliverable|delivery (?:has )?failed|"
    r"permanent(?:ly)? (?:error|fatal)|following (?:address(?:es)?|recipients?)|"
    r"user unknown|unknown user|no such (?:user|mailbox|address)|mailbox (?:is )?full|"
    r"message (?:was )?rejected|did not reach|delivery to the following",
    re.IGNORECASE,
)

_A = r"<?([\w.!#$%&'*+/=?^`{|}~-]{1,200}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,10})>?"
# Tiers of recipient patterns, most specific first (see the module docstring).
_TIERS = (
    re.compile(
        r"^[ \t]*(?:\d{1,3}[.)][ \t]+)?"
        + _A
        + r"[ \t]*(?::|\.\.\.|[ \t]on[ \t]|[ \t]-[ \t]|[ \t]\(|"
        r"[ \t]{2,}|$)",
        re.MULTILINE | re.ASCII,
    ),
    re.compile(
        r"(?:recipient(?:\(s\)|s)?|rcpt to|adresse|address(?:es)?|destinatario|empf[äa]nger|"
        r"mailbox|to|for)[ \t]*:?[ \t]*<?" + _A[2:],
        re.IGNORECASE | re.ASCII,
    ),
    re.compile(r"<([\w.!#$%&'*+/=?^`{|}~-]{1,200}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,10})>", re.ASCII),
    F.ADDRESS,
)
_NOT_RECIPIENT = re.compile(
    r"^(?:mailer-daemon|postmaster|abuse|noreply|no-reply|root|hostmaster|webmaster|"
    r"administrator|admin|support|help|security)@",
    re.IGNORECASE,
)


def looks_like_bounce(mail: Mail) -> bool:
    """True when the sender, the subject or the wording says this is a bounce."""
    if DAEMON_SENDER.search(mail.sender) or BOUNCE_SUBJECT.search(mail.subject):
        return True
    return_path = (mail.headers.get("return-path") or "").strip()
    return return_path in ("<>", "") and bool(BOUNCE_WORDING.search(mail.notice[:6000]))


def excluded_addresses(mail: Mail) -> set[str]:
    """Addresses that are never the failed recipient: the report's parties, the sender's."""
    out = {a.lower() for a in F.find_addresses(mail.sender)}
    out.update(a.lower() for a in mail.envelope_to)
    original = mail.original
    for name in ("from", "return-path", "sender", "reply-to"):
        for value in original.get_all(name):
            out.update(a.lower() for a in F.find_addresses(value))
    return out


def find_recipients(text: str, excluded: set[str]) -> list[tuple[str, int, int]]:
    """Recipients in a notice with the span of each: (address, start, end of its match)."""
    for tier in _TIERS:
        found: list[tuple[str, int, int]] = []
        seen: set[str] = set()
        for match in tier.finditer(text):
            address = match.group(1).strip(".")
            key = address.lower()
            if key in seen or key in excluded or _NOT_RECIPIENT.match(key):
                continue
            if "." not in address.rpartition("@")[2] and tier is not _TIERS[0]:
                continue
            seen.add(key)
            found.append((address, match.start(1), match.end()))
        if found:
            return found
    return []


def diagnostic_after(text: str, start: int, end: int, stop: int) -> str:
    """The text that speaks of the recipient at [start, end): its line and what follows."""
    line_start = text.rfind("\n", 0, start) + 1
    paragraph_end = text.find("\n\n", end)
    if paragraph_end < 0 or paragraph_end > stop:
        paragraph_end = stop
    block = text[line_start:paragraph_end]
    if "\n" not in block.strip() and paragraph_end < stop:
        # The address stands alone in its paragraph: the error is in the next one.
        following = text.find("\n\n", paragraph_end + 2)
        block = text[line_start : stop if following < 0 or following > stop else following]
    return F.collapse(block)


def read_notice(mail: Mail, text: str | None = None) -> list[Entry]:
    """Entries for the recipients a plain-text notice names."""
    text = mail.notice if text is None else text
    found = find_recipients(text, excluded_addresses(mail))
    if not found:
        return []
    entries = []
    for index, (address, start, end) in enumerate(found):
        stop = found[index + 1][1] if index + 1 < len(found) else len(text)
        stop = text.rfind("\n", 0, stop) if index + 1 < len(found) else stop
        diagnostic = diagnostic_after(text, start, end, max(stop, end))
        entries.append(_entry(address, diagnostic, text))
    return entries


def _entry(address: str, diagnostic: str, notice: str) -> Entry:
    status = F.find_status(diagnostic)
    action = DsnAction.DELAYED if status and status[0] == "4" else DsnAction.FAILED
    return Entry(
        recipient=address,
        action=action,
        status=status,
        reply_code=F.find_reply_code(diagnostic),
        diagnostic=diagnostic,
        command=F.find_command(diagnostic),
    )


def original_recipients(mail: Mail) -> list[str]:
    """The recipients the returned message was addressed to, when nothing else names one."""
    original = mail.original
    excluded = excluded_addresses(mail)
    for name in ("x-original-to", "envelope-to", "to"):
        value = original.get(name)
        if value:
            found = [a for a in F.find_addresses(value) if a.lower() not in excluded]
            if found:
                return found
    return []
