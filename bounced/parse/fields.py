"""Small readers shared by every format: addresses, status codes, reply codes, SMTP commands.

All regexes here are linear: bounded repetitions, no nested quantifiers over overlapping
classes, so that a hostile line costs time proportional to its length.
"""

from __future__ import annotations

import re

from ahocorasick_rs import AhoCorasick

from bounced.parse.native import native

# The characters of a local part as bounces print it (quoted strings are rare in bounces and
# not supported); "%" and "/" appear in gatewayed addresses.
LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]{1,200}"
DOMAIN = r"[\w-]{1,63}(?:\.[\w-]{1,63}){0,10}"
# An e-mail address as bounces print it. The domain needs at least one label. Bounded on both
# sides; never starts in the middle of a word.
ADDRESS = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])(" + LOCAL + "@" + DOMAIN + ")", re.ASCII)
_WHOLE_ADDRESS = re.compile(LOCAL + "@" + DOMAIN)  # Unicode too: SMTPUTF8 fields (RFC 6533)
# Enhanced status code (RFC 3463): class.subject.detail; detail up to three digits. Not part of
# a longer dotted number (an IP address, a version "v2.1.3").
STATUS = re.compile(r"([245])(?<![\d.vV][245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)")
# An SMTP reply code at the start of a reply ("550 ", "550-", "550 5.1.1"), not inside a number,
# an address or a percentage.
REPLY = re.compile(r"([245](?<![\d.\w#-][245])[0-9][0-9])(?:[ -]|$)(?!\S*%)")

_CMD = r"(rcpt to|mail from|end of data|final data|data|initial connection|ehlo|helo|xforward|"
_CMD += r"starttls|auth|xclient|connect|rcpt|mail|conn)\b"
# Phrases that say which SMTP command a reply answered, matched against the lower-cased text:
# (trigger, pattern matched where the trigger was found, command when the pattern has no
# group). The triggers are plain substrings, all found in one pass by an Aho-Corasick automaton
# (faster than one regex alternation of them, or a str.find per trigger); each row names the
# MTA whose wording it is.
_COMMAND_PHRASES: tuple[tuple[str, re.Pattern[str], str | None], ...] = (
    # Postfix "(in reply to RCPT TO command)", "(in reply to end of DATA command)"
    ("in reply to ", re.compile(r"in reply to (?:the )?" + _CMD), None),
    # Exim "SMTP error from remote mail server after RCPT TO:<...>", GMX "after RCPT command"
    ("server after ", re.compile(r"server after (?:pipelined )?" + _CMD), None),
    ("lmtp error after ", re.compile(r"lmtp error after " + _CMD), None),  # Exim LMTP
    ("did not like our ", re.compile(r"did not like our " + _CMD), None),  # DragonFly DMA
    ("does not like recipient", re.compile("does not like recipient"), "RCPT"),  # qmail-remote
    ("failed on data command", re.compile("failed on data command"), "DATA"),  # qmail-remote
    ("failed after i sent", re.compile("failed after i sent"), "DATA"),  # qmail-remote
    ("but greeting failed", re.compile("but greeting failed"), "CONN"),  # qmail-remote
    ("but my name was rejected", re.compile("but my name was"), "EHLO"),  # qmail-remote
    ("but sender was rejected", re.compile("but sender was"), "MAIL"),  # qmail-remote
    ("for text command", re.compile("for text command"), "DATA"),  # 1&1
    ("error following ", re.compile(r"error following " + _CMD + " command"), None),  # X6
    ("smtp command ", re.compile(r"smtp command " + _CMD), None),  # m-FILTER sections
    ("smtp:", re.compile(r"smtp:" + _CMD), None),  # anonymous MTA "SMTP:RCPT host ..."
    ("step:", re.compile(r"step: ?" + _CMD), None),  # anonymous MTA "STEP: DATA SEND"
    # Postfix's own messages: "lost connection with mx[ip] while sending RCPT TO", "... while
    # performing the HELO handshake", "while receiving the initial server greeting", "host
    # mx[ip] refused to talk to me", "connect to mx[ip]:25: Connection refused".
    ("while sending message body", re.compile("while sending message body"), "DATA"),
    ("while sending ", re.compile(r"while sending " + _CMD), None),
    ("while performing the helo", re.compile("while performing the helo"), "HELO"),
    ("initial server greeting", re.compile("initial server greeting"), "CONN"),
    ("refused to talk to me", re.compile("refused to talk to me"), "CONN"),
    (
        "connect to ",
        re.compile(
            r"connect to [^\s:\[]{1,255}(?:\[[^\]\s]{1,45}\])?(?::\d{1,5})?: ?(?:connection "
            r"(?:refused|timed out|reset)|no route to host|network is unreachable)"
        ),
        "CONN",
    ),
)


_TRIGGERS = AhoCorasick(trigger for trigger, _, _ in _COMMAND_PHRASES)
# The last command of a sendmail-style transcript (">>> RCPT To:<...>").
# ">>>" in sendmail and its clones, "-->" in MDaemon's session transcript.
_TRANSCRIPT = re.compile(
    r"^[^\n]{0,40}?(?:>>>|-->) ?(rcpt|mail|data|ehlo|helo|starttls|auth|quit)\b", re.M
)
# Failing that, the last command written as sent ("RCPT TO:<addr>"), not a mention in prose
# ("The MAIL FROM domain ... has an SPF record").
_COMMAND_WORD = re.compile(r"\b(rcpt to|mail from): ?<")
_COMMAND_NAMES = {
    "rcpt to": "RCPT",
    "rcpt": "RCPT",
    "mail from": "MAIL",
    "mail": "MAIL",
    "data": "DATA",
    "end of data": "DATA",
    "final data": "DATA",
    "ehlo": "EHLO",
    "helo": "HELO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "xforward": "XFORWARD",
    "xclient": "XCLIENT",
    "connect": "CONN",
    "conn": "CONN",
    "initial connection": "CONN",
    "quit": "QUIT",
}
_TYPE_PREFIX = re.compile(r"^\s*([A-Za-z][\w/-]{0,20})\s*;\s*")
# A source route before an address: "@relay.example,@other.example:user@host".
_SOURCE_ROUTE = re.compile(r"^@[^:]{1,300}:")


def _py_collapse(text: str) -> str:
    """Whitespace runs (line ends included) turned into one space; trimmed. (`collapse` is
    this function's C form in the compiled build.)"""
    return " ".join(text.split())


collapse = native("collapse", _py_collapse)


def clean_address(value: str) -> str:
    """The bare address of a recipient field value.

    Drops the address type (``rfc822;``, ``RFC/822;``), angle brackets, quotes, comments,
    ``mailto:`` and a source route (``@relay:user@host``).
    """
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
    elif "(" in value and "@" in value:
        value = value[: value.find("(")] if value.find("(") > value.find("@") else value
    value = value.strip().strip("\"'<>()[];:,.").strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    if value.startswith("@"):
        value = _SOURCE_ROUTE.sub("", value)
    return value


def is_address(value: str) -> bool:
    """True for ``local@domain`` with nothing else around it."""
    return _WHOLE_ADDRESS.fullmatch(value) is not None


# The longest domain DOMAIN matches: 11 labels of 63 characters and the dots between them.
_LONGEST_DOMAIN = 11 * 63 + 10


def _address_span(text: str) -> tuple[int, int]:
    """Where in a text an address can be: from 200 characters (the longest local part) before
    its first "@" to the longest domain's length after its last. The regex engine would
    otherwise try a local part at every position of a long text; look-behinds still see the
    characters before the start. An empty span when there is no "@"."""
    first = text.find("@")
    if first < 0:
        return 0, 0
    return max(0, first - 200), text.rfind("@") + 1 + _LONGEST_DOMAIN


def find_address(text: str) -> str | None:
    """The first address in a piece of text, or None."""
    start, end = _address_span(text)
    match = ADDRESS.search(text, start, end) if end else None
    return match.group(1).strip(".") if match else None


def find_addresses(text: str) -> list[str]:
    """Every address in a piece of text, in order, without duplicates (case-insensitive)."""
    seen: dict[str, str] = {}
    start, end = _address_span(text)
    if not end:
        return []
    # One search after another rather than finditer, whose iterator costs more to set up than
    # a search: most texts hold one address. A match is never empty, so each search moves on;
    # none is made past the last "@" (every address has one), which spares most texts a second.
    last = end - 1 - _LONGEST_DOMAIN  # the last "@"
    match = ADDRESS.search(text, start, end)
    while match is not None:
        address = match.group(1).strip(".")
        seen.setdefault(address.lower(), address)
        if match.end() > last:
            break
        match = ADDRESS.search(text, match.end(), end)
    return list(seen.values())


def split_type(value: str) -> tuple[str | None, str]:
    """Split ``smtp; 550 ...`` into (``smtp``, ``550 ...``)."""
    match = _TYPE_PREFIX.match(value)
    if match and not match.group(1).isdigit():
        return match.group(1).lower(), value[match.end() :]
    return None, value


def _status_of(match: re.Match[str]) -> str:
    return f"{match.group(1)}.{int(match.group(2))}.{int(match.group(3))}"


def find_status(text: str) -> str | None:
    """The enhanced status code of a text: the first specific one, else the first generic one.

    A generic code (x.0.0) often precedes the code that says what happened ("550 5.0.0 ...
    5.1.1 user unknown"), so the first code with a non-zero subject or detail wins.
    """
    generic: str | None = None
    match = STATUS.search(text)  # searches rather than finditer, as in find_addresses
    while match is not None:
        code = _status_of(match)
        if code[2:] != "0.0":
            return code
        if generic is None:
            generic = code
        match = STATUS.search(text, match.end())
    return generic


def preferred_status(field: str | None, in_text: str | None) -> str | None:
    """The status of a recipient: its DSN Status field, unless the diagnostic says more.

    MTAs often write a generic Status (5.0.0, or a code of their own making such as 4.4.7 for
    a message they gave up on) while the remote server's reply, quoted in the diagnostic,
    carries the precise code. So a specific code in the diagnostic wins over a Status that is
    x.0.0 or disagrees with it; a generic code in the diagnostic never replaces the field.
    """
    if in_text is None or in_text.endswith(".0.0"):
        return field or in_text
    return in_text


def find_statuses(text: str) -> list[str]:
    """Every enhanced status code of a text, in order."""
    return [_status_of(match) for match in STATUS.finditer(text)]


def find_reply_code(text: str) -> int | None:
    """The first SMTP reply code in a text, or None."""
    match = REPLY.search(text)
    return int(match.group(1)) if match else None


def find_command(text: str) -> str | None:
    """The SMTP command a reply answered, when the text says so."""
    lowered = text.lower()
    if ">>>" in lowered or "-->" in lowered:
        sent = _TRANSCRIPT.findall(lowered)
        if sent:
            return _COMMAND_NAMES[sent[-1]]
    if "\n" in lowered:
        lowered = collapse(lowered)  # "(in reply to end\n    of DATA command)"
    # Each trigger is tried where it first occurs, from the earliest on.
    first: dict[int, int] = {}
    for index, start, _ in _TRIGGERS.find_matches_as_indexes(lowered, overlapping=True):
        if index not in first:
            first[index] = start
    for start, index in sorted((start, index) for index, start in first.items()):
        _, pattern, command = _COMMAND_PHRASES[index]
        match = pattern.match(lowered, start)
        if match is not None:
            return command or _COMMAND_NAMES[match.group(1)]
    if "rcpt to" not in lowered and "mail from" not in lowered:
        return None
    words = _COMMAND_WORD.findall(lowered)
    return _COMMAND_NAMES[words[-1]] if words else None


def host_of(value: str | None) -> str | None:
    """A host name out of ``dns; mx.example.com`` or ``mx.example.com [192.0.2.1]``."""
    if not value:
        return None
    _, value = split_type(value)
    words = value.strip().strip("[]()<>;").split()
    value = words[0].strip("[]()<>;,") if words else ""
    host, colon, port = value.rpartition(":")
    if colon and port.isdigit() and "." in host and ":" not in host:
        value = host  # "mx.example.com:25"
    return value.rstrip(".").lower() or None
