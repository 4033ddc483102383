"""The engine behind every plain-text format: a layout (data) in, entries out.

Theory of operation. A human-readable bounce notice is, for almost every MTA, a preamble, then
for each failed recipient a line that names it (the anchor) followed by the text that says what
went wrong, then the returned message. A `Layout` describes one MTA's notice as data:

* ``begin``: lines that open the part listing the recipients (the preamble is skipped; when
  none is found the whole notice is read);
* ``end``: lines that close it (the returned message, a signature);
* ``anchor``: a regex whose ``addr`` group is a failed recipient; each match opens a segment
  that runs to the next anchor or the end of the part;
* ``hints``: phrases of the MTA's own making that state the reason unambiguously.

A segment's text after the address (with `keep_prefix`, the start of the anchor line too, and
the lines above it when nothing follows the address) is the recipient's diagnostic; status,
reply code, command and action are read out of it by `entry.make_entry`. An address named
twice (a transcript repeats it) gets one entry, with the texts joined. All regexes are
bounded, so a hostile notice costs linear time.

The module also holds what readers use to find a diagnostic elsewhere in a notice: the
paragraph about a recipient, the last command of a session transcript, the sentence above a
list of recipients, and the notice without its template paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bounced.model import DsnAction, Entry, Reason
from bounced.parse import fields as F
from bounced.parse.entry import make_entry

Hint = tuple[re.Pattern[str], Reason]

# Where an MTA names the host that answered: "host mx.example.com [192.0.2.1]" (Postfix,
# Exim), "while talking to mx.example.com.:" (sendmail), "Giving up on 192.0.2.1" and
# "Connected to 192.0.2.1" (qmail), "mx.example.com [192.0.2.1] did not like our" (DMA),
# "Remote system: dns; mx.example.com" (Sun Messaging Server), "Remote server: ...", and
# Postfix's own "connect to mx.example.com[192.0.2.1]" / "lost connection with mx[...]".
#
# Each wording is a pattern of its own, searched only when its key is in the text, and the one
# that matches first in the text wins (as in one alternation of them). Most open with their
# words, a word boundary before them written as a look-behind after them ("host" not preceded
# by a word character): the regex engine then skips from one occurrence of the words to the
# next instead of trying every position of the text, a tenth of the cost.
_HOST = r"[\w.-]{1,253}\.[a-z]{2,63}"
_REMOTE_HOSTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("host ", re.compile(r"host(?<!\whost) (" + _HOST + r")\.? ?(?:\[|said:|says:)")),
    ("alking to", re.compile(r"\b[Ww]hile talking to (" + _HOST + r")\.?:")),
    ("Giving up", re.compile(r"Giving up on ([\d.]{7,15}|" + _HOST + r")\b")),
    ("Connected to", re.compile(r"Connected to ([\d.]{7,15}|" + _HOST + r")\b")),
    (
        "did not like",
        re.compile(r"^(" + _HOST + r") \[[\d.:a-fA-F]{3,45}\] did not like our", re.MULTILINE),
    ),
    (
        "Remote ",
        re.compile(
            r"Remote(?<!\wRemote) (?:system|server|host|MTA): (?:dns; ?)?(" + _HOST + r")\b"
        ),
    ),
    ("connect", re.compile(r"connect(?<!\wconnect)(?: to|ion with) (" + _HOST + r")\[")),
)

# A word of three letters or more, in any script.
_WORD = re.compile(r"[^\W\d_]{3}")


# Lead-in sentences that say nothing about the failure itself.
_BOILERPLATE = re.compile(
    r"(?:this is an automatically generated delivery status notification\.?|"
    r"this is a warning message only\.?|you do not need to resend your message\.?|"
    r"[\w ]{0,60}the following (?:recipients?|addresses?|users?)[\w ]{0,40}[.:]?|"
    r"[\s*#=-]*)",
    re.IGNORECASE,
)


# Paragraphs of the MTAs' notice templates that say nothing about any recipient (compared
# whitespace-collapsed, case-insensitively, each from start to end).
_TEMPLATE_PARAGRAPHS = re.compile(
    r"(?:"
    # Postfix: bounce(5) templates
    r"this is the (?:mail system|postfix program) at host [\w.-]{1,255}\.?|"
    r"i'm sorry to have to inform you that (?:your message|the message returned below) could "
    r"not be delivered to one or more (?:recipients|destinations)\.?(?: it's attached below\.)?|"
    r"for further assistance, please send mail to <?postmaster>?\.?|"
    r"if you do so, please include this problem report\.[^\n]{0,120}|"
    r"the (?:mail system|postfix program)|"
    # sendmail: "The original message was received at <date> from <host>"
    r"the original message was received at [^\n]{1,200}|"
    # Exim
    r"this message was created automatically by mail delivery software\.|"
    r"this is a mime-encapsulated message\.?"
    r")",
    re.IGNORECASE,
)


def _is_template(paragraph: str) -> bool:
    return _TEMPLATE_PARAGRAPHS.fullmatch(F.collapse(paragraph)) is not None


def essential(text: str) -> str:
    """A notice without the paragraphs of its MTA's template that speak of no recipient."""
    kept = [
        paragraph
        for paragraph in text.split("\n\n")
        if paragraph.strip()
        and not _BOILERPLATE.fullmatch(paragraph.strip())
        and not _is_template(paragraph)
    ]
    return "\n\n".join(kept)


@dataclass(frozen=True, slots=True)
class Layout:
    """How one MTA's plain-text notice names its failed recipients (see the module docstring)."""

    anchor: re.Pattern[str]
    begin: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    hints: tuple[Hint, ...] = ()
    # Keep the start of the anchor line (a reply code before the address) in the diagnostic.
    keep_prefix: bool = False
    # The action of every entry when the notice is of one kind only (a delay warning).
    action: DsnAction | None = None


@dataclass(slots=True)
class Segment:
    """What a notice says about one recipient, before it becomes an entry."""

    address: str
    text: str


def region(text: str, layout: Layout) -> str:
    """The part of a notice that lists recipients, per the layout's begin and end markers."""
    if layout.begin is not None:
        match = layout.begin.search(text)
        if match is not None:
            text = text[match.end() :]
    if layout.end is not None:
        match = layout.end.search(text)
        if match is not None:
            text = text[: match.start()]
    return text


def segments(text: str, anchor: re.Pattern[str], keep_prefix: bool = False) -> list[Segment]:
    """Split a text at each anchor match into per-recipient segments (merged by address).

    A segment's text is what follows the address up to the next anchor; with `keep_prefix`
    the start of the anchor line before the address too ("554 <addr>... Host unknown").
    """
    matches: list[re.Match[str]] = []
    last = ""
    for match in anchor.finditer(text):
        found = _address_of(match)
        if found and found.lower() != last:
            # A recipient named again inside its own segment (a transcript) does not cut it.
            matches.append(match)
            last = found.lower()
    out: dict[str, Segment] = {}
    for index, match in enumerate(matches):
        address = F.clean_address(_address_of(match) or "")
        if not F.is_address(address):
            continue
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        if index + 1 < len(matches):
            # The next anchor's line belongs to the next recipient.
            stop = max(match.end(), text.rfind("\n", 0, stop))
        rest = text[match.end() : stop].lstrip(" \t:>.;,-'\")]")
        line_start = text.rfind("\n", 0, match.start()) + 1
        reply_start = _logical_line_start(text, line_start)
        if keep_prefix:
            line_start = reply_start
            first = rest.find("\n\n")
            if _WORD.search(rest[: 200 if first < 0 else min(first, 200)]) is None:
                # Nothing after the address ("reason: Mailbox full\naddress: <addr>"): the
                # lines above it in its paragraph are what speaks of it.
                above = text.rfind("\n\n", max(0, line_start - 1000), line_start)
                line_start = max(0, line_start - 1000) if above < 0 else above + 2
            at = match.start("addr") if match.group("addr") else match.start()
            rest = text[line_start:at].rstrip(" \t<") + " " + rest
        elif reply_start < line_start:
            rest = text[reply_start:line_start].strip() + " " + rest  # the codes it goes on from
        elif (refusal := _refusal_before(text, line_start, match.start())) is not None:
            # "550 5.1.1 <addr>... User unknown": the reply's codes come before the address.
            rest = text[refusal : match.start()].rstrip(" \t<") + " " + rest
        key = address.lower()
        if key in out:
            out[key].text += "\n" + rest
        else:
            out[key] = Segment(address=address, text=rest)
    result = list(out.values())
    if len(result) > 1:
        _share_tail(result)  # first: it looks at the last text as the notice wrote it
        _share_list(result)
    return result


def _refusal_before(text: str, start: int, end: int) -> int | None:
    """Where the first 4xx or 5xx reply code between `start` and `end` begins, if any (a 2xx
    one, "250 2.1.5 <addr>... Recipient ok", says nothing of a failure)."""
    for found in F.REPLY.finditer(text, start, end):
        if found.group(1)[0] != "2":
            return found.start()
    return None


def _logical_line_start(text: str, line_start: int) -> int:
    """Where the reply a line goes on from starts: a reply folded after its codes ("550 5.1.1"
    then, indented, "<addr>: Recipient address rejected") is one line with its codes."""
    if line_start < 2 or text[line_start : line_start + 1] not in (" ", "\t"):
        return line_start
    previous = text.rfind("\n", 0, line_start - 1) + 1
    above = text[previous : line_start - 1]
    if F.find_address(above) is None and (F.find_status(above) or F.REPLY.search(above)):
        return previous
    return line_start


# Characters of shared text handed out to recipients at the most: beyond it, a huge notice
# about very many recipients leaves the rest of them with what they had of their own.
SHARE_BUDGET = 1_000_000


def _share_list(found: list[Segment]) -> None:
    """Recipients listed one under another ("a@x\nb@x\n\nFor the following reason: ...")
    have nothing of their own before the next address: what follows the list is about each of
    them. Where it names them one by one ("553 <a@x>... No such user"), each gets the lines
    that name it and the lines that name none of them; one it does not name gets only the
    latter.

    Each text is split and searched for addresses once, however many recipients share it, and
    what is handed out is bounded (`SHARE_BUDGET`).
    """
    shared: list[str | None] = [None] * len(found)
    following: str | None = None
    for index in range(len(found) - 1, -1, -1):
        if _WORD.search(found[index].text):
            following = found[index].text
        else:
            shared[index] = following
    listed = {seg.address.lower() for seg in found}
    read: dict[str, tuple[list[str], list[int], dict[str, list[int]]]] = {}
    budget = SHARE_BUDGET
    for seg, given in zip(found, shared, strict=True):
        if given is not None and len(given) > budget:
            continue  # keep what it had: the budget is spent
        text = seg.text if given is None else given
        known = read.get(text)
        if known is None:
            lines = text.split("\n")
            common: list[int] = []
            naming: dict[str, list[int]] = {}
            for index, line in enumerate(lines):
                names = {a.lower() for a in F.find_addresses(line)} & listed
                if not names:
                    common.append(index)
                for name in names:
                    naming.setdefault(name, []).append(index)
            known = read[text] = (lines, common, naming)
        lines, common, naming = known
        own = naming.get(seg.address.lower())
        if own:
            text = "\n".join(lines[i] for i in sorted(common + own))
        elif naming:
            text = "\n".join(lines[i] for i in common)
        if given is not None:
            budget -= len(text)
        seg.text = text


# A section heading of its own: "   ----- Transcript of session follows -----".
_SECTION = re.compile(r"^[ \t]{0,4}-{3,} ?[A-Za-z][^\n]{0,80}? ?-{3,}[ \t]*$", re.MULTILINE)


def _share_tail(found: list[Segment]) -> None:
    """A section after the last recipient's lines (sendmail's transcript of the session) is
    about every recipient of the list above it, unless it names one: the earlier recipients
    get it too."""
    last = found[-1]
    heading = _SECTION.search(last.text)
    if heading is None:
        return
    tail = last.text[heading.start() :]
    if len(tail) * (len(found) - 1) > SHARE_BUDGET:
        return
    if {a.lower() for a in F.find_addresses(tail)} & {seg.address.lower() for seg in found}:
        return  # a transcript that names its recipients speaks of each in its own place
    for seg in found[:-1]:
        if _SECTION.search(seg.text) is None:
            seg.text += "\n" + tail


def _address_of(match: re.Match[str]) -> str | None:
    """The address an anchor matched: its ``addr`` group, or ``addr2`` for a second form."""
    found = match.group("addr")
    if found is None and "addr2" in match.re.groupindex:
        found = match.group("addr2")
    return found


_CONTINUATION = re.compile(r"(?<=[^\n])\n[ \t]+(?=\S)")  # not after a blank line


def unfold(text: str) -> str:
    """Lines that go on, indented, on the next line (a notice folded at its width) joined."""
    return _CONTINUATION.sub(" ", text) if "\n " in text or "\n\t" in text else text


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def reflow(text: str) -> str:
    """Each paragraph on one line, its whitespace collapsed: prose that its writer's mail client
    wrapped at whatever width, read as the sentences it is."""
    return "\n\n".join(F.collapse(p) for p in _PARAGRAPH_BREAK.split(text))


def hint_of(text: str, hints: tuple[Hint, ...]) -> Reason | None:
    """The reason the first matching hint states, if any.

    A notice folds its long lines wherever its MTA's line width falls, so a phrase the text
    does not hold as written is looked for again with the text's whitespace collapsed.
    """
    for pattern, reason in hints:
        if pattern.search(text):
            return reason
    if "\n" in text:
        flat = F.collapse(text)
        for pattern, reason in hints:
            if pattern.search(flat):
                return reason
    return None


def remote_host(text: str) -> str | None:
    """The host that answered, when the notice names it."""
    first: re.Match[str] | None = None
    for key, pattern in _REMOTE_HOSTS:
        if key in text:
            match = pattern.search(text)
            if match is not None and (first is None or match.start() < first.start()):
                first = match
    return None if first is None else first.group(1).rstrip(".").lower()


def read_layout(text: str, layout: Layout) -> list[Entry]:
    """Entries for the recipients a notice names, read with one layout."""
    part = region(text, layout)
    found = segments(part, layout.anchor, layout.keep_prefix)
    if not found:
        return []
    return [
        make_entry(
            seg.address,
            seg.text if seg.text.strip() else lead_in(part, seg.address),
            action=layout.action,
            remote_mta=remote_host(seg.text),
            hint=hint_of(seg.text, layout.hints),
        )
        for seg in found
    ]


def paragraph(notice: str, recipient: str) -> str:
    """The paragraph of a notice that speaks of one recipient (its diagnostic, usually).

    When the paragraph is only the address line (Postfix, Exim, qmail put the reply below it),
    the next paragraph comes with it.
    """
    at = notice.find(recipient)
    if at < 0:
        at = notice.lower().find(recipient.lower())
        if at < 0:
            return ""
    start = notice.rfind("\n\n", 0, at)
    start = 0 if start < 0 else start + 2
    end = notice.find("\n\n", at)
    if end >= 0 and "\n" not in notice[at:end].strip():
        following = notice.find("\n\n", end + 2)
        end = len(notice) if following < 0 else following
    return notice[start : len(notice) if end < 0 else end]


def transcript_command(notice: str, recipient: str, alone: bool = False) -> str | None:
    """The command of a session transcript (">>> RCPT To:<addr>", "<<< 550 ...") for one
    recipient: the command that names it, or the last one sent before a reply that does. When
    the notice is about this recipient `alone`, the command that drew the first refusal.

    A transcript in which nothing was sent, only a refusal received once connected ("... while
    talking to mx.example.org.:" then "<<< 554 ..."), was refused at the greeting: "CONN".
    """
    wanted = recipient.lower()
    last: str | None = None
    first_refused: str | None = None
    sent = refused = talking = False
    for line in notice.lower().split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            sent = True
            last = F.find_command(stripped)
            if last is not None and wanted in stripped:
                return last
        elif stripped.startswith("<<<"):
            if wanted in stripped and sent:
                return last
            failing = stripped[3:].lstrip()[:1] in ("4", "5")
            refused = refused or (talking and failing)
            if failing and sent and first_refused is None:
                first_refused = last
        talking = "while talking to " in stripped
    if refused and not sent:
        return "CONN"
    return first_refused if alone else None


# The first line of a multi-line SMTP reply: "550-5.7.1 Unauthenticated email ...".
_CONTINUED = re.compile(r"([2-5][0-9][0-9])-")
# At most this many lines of one reply are joined (RFC 5321 sets no limit; real ones are short).
_REPLY_LINES = 40


def whole_reply(notice: str, first: str) -> str | None:
    """The whole of a multi-line reply of which a report quoted the first line only.

    MTAs put the first line of the remote host's reply in the DSN's Diagnostic-Code, where the
    rest ("550-5.7.1 ... domain's" / "550-5.7.1 DMARC policy. ..." / "550 5.7.1 ...") is often
    what says why. The notice's session transcript ("<<< 550-5.7.1 ...") has every line: they
    are joined into one reply, each line's repeated codes dropped. None when the notice does
    not hold more of it. At most `_REPLY_LINES` lines are read after each place the first line
    appears.
    """
    first = first.strip()
    opening = _CONTINUED.match(first)
    if opening is None or len(first) < 12:
        return None
    code = opening.group(1)
    at = notice.find(first)
    if at < 0:
        notice = unfold(notice)  # the notice folded the line the report quotes whole
        at = notice.find(first)
    while at >= 0:
        end = notice.find("\n", at)
        parts = [first[4:].strip()]
        while end >= 0 and len(parts) <= _REPLY_LINES:
            stop = notice.find("\n", end + 1)
            line = notice[end + 1 : len(notice) if stop < 0 else stop].strip()
            line = line[3:].lstrip() if line.startswith("<<<") else line
            if not line.startswith(code) or line[3:4] not in ("-", " "):
                break
            parts.append(_without_codes(line[4:].strip(), parts[0]))
            if line[3] == " ":
                return f"{code} " + " ".join(p for p in parts if p)
            end = stop
        at = notice.find(first, at + len(first))
    return None


def _without_codes(line: str, first: str) -> str:
    """A reply line without the enhanced status code the first line opened with."""
    status = first.partition(" ")[0]
    if status and status[0].isdigit() and line.startswith(status):
        return line[len(status) :].strip()
    return line


def lead_in(notice: str, recipient: str) -> str:
    """The paragraph just before the one that names a recipient: notices such as
    "Unable to deliver message to the following recipients, because ..." give the reason
    there, above the list of addresses."""
    at = notice.lower().find(recipient.lower())
    if at < 0:
        return ""
    start = notice.rfind("\n\n", 0, at)
    for _ in range(3):  # the reason sits right above the list, not at the notice's top
        if start <= 0:
            break
        previous = notice.rfind("\n\n", 0, start)
        text = notice[previous + 2 if previous >= 0 else 0 : start].strip()
        if text and not _BOILERPLATE.fullmatch(text) and not _is_template(text):
            return text
        start = previous
    return ""
