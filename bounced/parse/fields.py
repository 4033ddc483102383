"""Small readers shared by every format: addresses, status codes, reply codes, SMTP commands.

All regexes here are linear: bounded repetitions, no nested quantifiers over overlapping
classes, so that a hostile line costs time proportional to its length.
"""

from __future__ import annotations

import re

# An e-mail address as bounces print it. Local parts are liberal (quoted strings are rare
# in bounces and not supported); the domain needs at least one label. Bounded on both sides.
ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
    r"([\w.!#$%&'*+/=?^`{|}~-]{1,200}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,10})",
    re.ASCII,
)
# Enhanced status code (RFC 3463): class.subject.detail; detail up to three digits.
STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
# An SMTP reply code at the start of a reply line ("550 ", "550-", "550 5.1.1").
REPLY = re.compile(r"(?<![\d.\w])([245][0-9][0-9])(?:[ -]|$)(?!\S*%)")
_COMMAND = re.compile(
    r"\b(?:in reply to (?:end of )?|after |while sending |to |did not like our )?"
    r"(RCPT TO|MAIL FROM|DATA|EHLO|HELO|STARTTLS|AUTH|end of data|final DATA|message body)\b",
    re.IGNORECASE,
)
_COMMAND_NAMES = {
    "rcpt to": "RCPT",
    "mail from": "MAIL",
    "data": "DATA",
    "end of data": "DATA",
    "final data": "DATA",
    "message body": "DATA",
    "ehlo": "EHLO",
    "helo": "HELO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
}
_TYPE_PREFIX = re.compile(r"^\s*([A-Za-z][\w-]{0,20})\s*;\s*")
_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    """Whitespace runs (line ends included) turned into one space; trimmed."""
    return _SPACE.sub(" ", text).strip()


def clean_address(value: str) -> str:
    """The bare address of a recipient field value: no type, angle brackets, quotes or mailto."""
    value = value.strip()
    match = _TYPE_PREFIX.match(value)
    if match:
        value = value[match.end() :]
    if "<" in value:
        start = value.find("<")
        end = value.find(">", start)
        inner = value[start + 1 : end if end > 0 else len(value)]
        if "@" in inner or "@" not in value:
            value = inner
    value = value.strip().strip("\"'<>()[];:,.").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value


def find_address(text: str) -> str | None:
    """The first address in a piece of text, or None."""
    match = ADDRESS.search(text)
    return match.group(1).strip(".") if match else None


def find_addresses(text: str) -> list[str]:
    """Every address in a piece of text, in order, without duplicates (case-insensitive)."""
    seen: dict[str, str] = {}
    for match in ADDRESS.finditer(text):
        address = match.group(1).strip(".")
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def split_type(value: str) -> tuple[str | None, str]:
    """Split ``smtp; 550 ...`` into (``smtp``, ``550 ...``)."""
    match = _TYPE_PREFIX.match(value)
    if match and not match.group(1).isdigit():
        return match.group(1).lower(), value[match.end() :]
    return None, value


def find_status(text: str) -> str | None:
    """The first enhanced status code in a text, or None."""
    match = STATUS.search(text)
    if not match:
        return None
    return f"{match.group(1)}.{int(match.group(2))}.{int(match.group(3))}"


def find_reply_code(text: str) -> int | None:
    """The first SMTP reply code in a text, or None."""
    match = REPLY.search(text)
    return int(match.group(1)) if match else None


def find_command(text: str) -> str | None:
    """The SMTP command a reply answered, when the text says so."""
    match = _COMMAND.search(text)
    if not match:
        return None
    return _COMMAND_NAMES.get(match.group(1).lower())


def host_of(value: str | None) -> str | None:
    """A host name out of ``dns; mx.example.com`` or ``mx.example.com [192.0.2.1]``."""
    if not value:
        return None
    _, value = split_type(value)
    value = value.strip().strip("[]()<>;").split()[0] if value.strip() else ""
    return value.rstrip(".").lower() or None
