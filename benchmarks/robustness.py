"""How much the parser's reading of real messages changes when they are rewritten the ways real
mail gets rewritten.

    python benchmarks/robustness.py [--corpus DIR] [--show N]

Each message of the corpus is read as it is, then rewritten: line ends (CRLF, CR), an mbox
"From " line in front, its text parts re-encoded (base64, quoted-printable), the long lines of
its plain-text parts folded at 64 columns with an indented continuation (as Postfix and
Exchange fold), the fields of its delivery-status part folded, its recipients' field groups
in reverse order, a second recipient that failed the same way (in the DSN, or in a plain-text
notice) or as an unknown user, its returned message cut to headers (text/rfc822-headers), and
every address it holds made longer (but its own sender's). Prints, per rewrite, how many
messages are read as expected: the same kind, recipients (mapped back through the address
change, the second recipient added) and, per recipient, reason, hard/soft and status. A
message read otherwise shows a reader that leans on something incidental (or, for a bounce
that returns another bounce, content the rewrite took away); `--show N` lists the first N per
rewrite.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import quopri
import re
import sys
import textwrap
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"

_ADDRESS = re.compile(rb"(?<![\w.+-])([\w.+-]{1,64})@([\w-]{1,63}(?:\.[\w-]{1,63})+)")


def _longer(local: str) -> str:
    return f"{local}.longer-name"


_FROM = re.compile(rb"^From:[^\n]*(?:\n[ \t][^\n]*)*", re.MULTILINE | re.IGNORECASE)


def _addresses(raw: bytes) -> bytes:
    """Every address made longer, but the notice's own sender's (MAILER-DAEMON@, postmaster@):
    those are fixed names that readers may rightly recognise."""
    head = raw[: raw.find(b"\n\n")] if b"\n\n" in raw else raw
    sender = _FROM.search(head)
    kept = {m.group(0).lower() for m in _ADDRESS.finditer(sender.group(0))} if sender else set()

    def longer(match: re.Match[bytes]) -> bytes:
        if match.group(0).lower() in kept:
            return match.group(0)
        return _longer(match.group(1).decode()).encode() + b"@" + match.group(2)

    return _ADDRESS.sub(longer, raw)


def _leaves(message: Message) -> list[Message]:
    """The text parts: the message itself when it is one, and the parts that say they are (the
    field groups of a delivery-status part, which the email package also yields as parts, have
    no Content-Type of their own)."""
    return [
        p
        for p in message.walk()
        if not p.is_multipart()
        and p.get_content_maintype() == "text"
        and (p is message or "Content-Type" in p)
    ]


_ENCODED = ("base64", "quoted-printable")


def _plain_leaves(message: Message) -> list[Message]:
    """The text/plain parts that are not base64 or quoted-printable already."""
    return [
        p
        for p in _leaves(message)
        if p.get_content_type() == "text/plain"
        and str(p.get("Content-Transfer-Encoding", "")).lower() not in _ENCODED
    ]


def _reencode(encoding: str) -> Callable[[bytes], bytes | None]:
    def rewrite(raw: bytes) -> bytes | None:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        changed = False
        for part in _plain_leaves(message):
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes) or not payload.strip():
                continue
            del part["Content-Transfer-Encoding"]
            encoded = (
                base64.encodebytes(payload)
                if encoding == "base64"
                else quopri.encodestring(payload)
            )
            body = encoded.decode("ascii")
            part["Content-Transfer-Encoding"] = encoding
            part.set_payload(body)
            changed = True
        return message.as_bytes() if changed else None

    return rewrite


def _fold(raw: bytes) -> bytes | None:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    changed = False
    for part in _plain_leaves(message):
        payload = part.get_payload()
        if not isinstance(payload, str) or payload.lstrip().startswith("{"):
            continue  # JSON (an SES notification) is not folded as text is
        lines = []
        for line in payload.splitlines():
            if len(line) > 64 and " " in line.strip():
                wrapped = textwrap.wrap(
                    line,
                    64,
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                lines.extend(wrapped)
                changed = changed or len(wrapped) > 1
            else:
                lines.append(line)
        part.set_payload("\n".join(lines) + "\n")
    return message.as_bytes() if changed else None


class _Status:
    """A message's delivery-status part, cut out to be rewritten and put back: `groups` are
    its field groups (per message first, then one per recipient), `notice` what comes before
    the part. Line ends are LF while rewriting and come back as they were."""

    def __init__(self, raw: bytes) -> None:
        self.crlf = b"\r\n" in raw
        self.text = raw.replace(b"\r\n", b"\n") if self.crlf else raw
        self.start = self.text.lower().find(b"content-type: message/delivery-status")
        self.body = self.text.find(b"\n\n", self.start) if self.start >= 0 else -1
        self.end = self.text.find(b"\n--", self.body + 2) if self.body >= 0 else -1
        inside = self.text[self.body + 2 : self.end] if self.end >= 0 else b""
        self.groups = [g for g in re.split(rb"\n[ \t]*\n", inside) if g.strip()]
        self.notice = self.text[: self.start] if self.start >= 0 else b""

    def fields(self) -> bytes:
        return self.text[self.body + 2 : self.end]

    def rebuilt(self, fields: bytes, notice: bytes | None = None) -> bytes:
        before = self.notice if notice is None else notice
        out = before + self.text[self.start : self.body + 2] + fields + self.text[self.end :]
        return out.replace(b"\n", b"\r\n") if self.crlf else out

    def with_groups(self, groups: list[bytes], notice: bytes | None = None) -> bytes:
        return self.rebuilt(b"\n\n".join(groups) + b"\n", notice)


def _fold_fields(raw: bytes) -> bytes | None:
    """The long lines of the delivery-status part folded as header fields fold (RFC 5322): a
    Diagnostic-Code that goes on over several lines, as many MTAs write it."""
    part = _Status(raw)
    if part.end < 0:
        return None
    lines: list[bytes] = []
    for whole in part.fields().split(b"\n"):
        rest = whole
        while len(rest) > 50 and b" " in rest[20:50]:
            cut = rest.rfind(b" ", 20, 50)
            lines.append(rest[:cut])
            rest = b"\t" + rest[cut + 1 :]
        lines.append(rest)
    folded = b"\n".join(lines)
    return part.rebuilt(folded) if folded != part.fields() else None


def _reordered(raw: bytes) -> bytes | None:
    """The per-recipient field groups of the delivery-status part in the reverse order: a DSN's
    recipients come in whatever order its MTA tried them, and need not follow the notice's."""
    part = _Status(raw)
    if part.end < 0 or len(part.groups) < 3:
        return None
    return part.with_groups([part.groups[0], *reversed(part.groups[1:])])


_RECIPIENT_FIELD = re.compile(
    rb"^((?:Final|Original)-Recipient:[ \t]*(?:rfc822;)?[ \t]*<?)([^@\s<>;]{1,64})@",
    re.IGNORECASE | re.MULTILINE,
)
_HEADING = re.compile(rb"^[ \t]*-{3,}[^\n]{0,100}-{3,}[ \t]*\n", re.MULTILINE)
_STATUS_FIELDS = re.compile(
    rb"^(?:Status|Diagnostic-Code|Action):[^\n]*(?:\n[ \t][^\n]*)*\n?", re.I | re.M
)


def _one_recipient(part: _Status) -> re.Match[bytes] | None:
    """The recipient field of a DSN for exactly one recipient."""
    if part.end < 0 or len(part.groups) != 2:
        return None
    return _RECIPIENT_FIELD.search(part.groups[1])


def _second_of(group: bytes) -> bytes:
    return _RECIPIENT_FIELD.sub(lambda m: m.group(1) + b"second." + m.group(2) + b"@", group)


def _repeat_paragraphs(text: bytes, named: re.Pattern[bytes], skip: re.Pattern[bytes]) -> bytes:
    """Each paragraph that names the first recipient followed by a copy for the second, under
    the same heading ("----- The following addresses ...")."""
    pieces = re.split(rb"(\n[ \t]*\n)", text)
    for i in range(0, len(pieces), 2):
        piece = pieces[i]
        if named.search(piece) and b"\n--" not in piece and not skip.search(piece):
            copy = _HEADING.sub(b"", named.sub(rb"second.\1", piece)).lstrip(b"\n")
            pieces[i] += b"\n" + copy
    return b"".join(pieces)


def _second_recipient(raw: bytes) -> bytes | None:
    """A DSN for one recipient made a DSN for two, as when a message to two people fails for
    both: its recipient's field group repeated for another address at the same domain, and each
    paragraph of the notice that names the first address repeated for the second."""
    part = _Status(raw)
    field = _one_recipient(part)
    if field is None:
        return None
    named = re.compile(rb"(?<![\w.+-])(" + re.escape(field.group(2)) + rb"@)", re.IGNORECASE)
    notice = _repeat_paragraphs(part.notice, named, _NOTHING)
    return part.with_groups([*part.groups, _second_of(part.groups[1])], notice)


def _unknown_second(raw: bytes) -> bytes | None:
    """A DSN for one recipient given a second recipient that failed for another reason (an
    unknown user): the first must keep its own reading, the second must read as unknown."""
    part = _Status(raw)
    field = _one_recipient(part)
    if field is None:
        return None
    domain = re.match(rb"[\w.-]+", part.groups[1][field.end() :])
    address = b"second." + field.group(2) + b"@" + (domain.group(0) if domain else b"example.com")
    other = _STATUS_FIELDS.sub(b"", _second_of(part.groups[1])).rstrip(b"\n") + (
        b"\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <"
        + address
        + b">: Recipient address rejected: User unknown in virtual mailbox table"
    )
    return part.with_groups([*part.groups, other])


_NOTHING = re.compile(rb"(?!)")
_HEADER_LINE = re.compile(
    rb"^(?:Received|From|To|Cc|Subject|Message-I[Dd]|Date|Return-Path):", re.M
)


def _second_recipient_notice(raw: bytes) -> bytes | None:
    """A plain-text notice (no delivery-status part) about one recipient made one about two:
    each paragraph of the notice that names the recipient repeated for another address at the
    same domain, and X-Failed-Recipients listing both."""
    crlf = b"\r\n" in raw
    text = raw.replace(b"\r\n", b"\n") if crlf else raw
    if b"message/delivery-status" in text.lower():
        return None
    reading = _reading(raw)
    if not isinstance(reading[1], list) or len(reading[1]) != 1 or reading[0] != "bounce":
        return None
    local = reading[1][0][0].partition("@")[0].encode()
    named = re.compile(rb"(?<![\w.+-])(" + re.escape(local) + rb"@)", re.IGNORECASE)
    head_end = text.find(b"\n\n")
    head = re.sub(
        rb"^(X-Failed-Recipients:[ \t]*)([^\n]+)",
        lambda m: m.group(1) + m.group(2) + b", " + named.sub(rb"second.\1", m.group(2)),
        text[:head_end],
        flags=re.IGNORECASE | re.MULTILINE,
    )
    body = _repeat_paragraphs(text[head_end:], named, _HEADER_LINE)
    if body == text[head_end:]:
        return None
    out = head + body
    return out.replace(b"\n", b"\r\n") if crlf else out


def _headers_only(raw: bytes) -> bytes | None:
    """The returned message cut to its header block and sent as text/rfc822-headers, as an
    MTA does when the sender asked for headers only (RET=HDRS) or when it returns no body."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    changed = False
    for part in message.walk():
        if part.get_content_type() != "message/rfc822" or not part.is_multipart():
            continue
        inner = part.get_payload(0)
        if not isinstance(inner, Message):
            continue
        head = "".join(f"{name}: {value}\n" for name, value in inner.items())
        del part["Content-Type"]
        del part["Content-Transfer-Encoding"]
        part["Content-Type"] = "text/rfc822-headers"
        part.set_payload(head)
        changed = True
    return message.as_bytes() if changed else None


REWRITES: dict[str, Callable[[bytes], bytes | None]] = {
    "crlf": lambda raw: raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    "cr": lambda raw: raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r"),
    "mbox": lambda raw: b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + raw,
    "base64": _reencode("base64"),
    "quoted-printable": _reencode("quoted-printable"),
    "folded": _fold,
    "folded-fields": _fold_fields,
    "headers-only": _headers_only,
    "reordered": _reordered,
    "second-recipient": _second_recipient,
    "second-in-notice": _second_recipient_notice,
    "unknown-second": _unknown_second,
    "addresses": _addresses,
}


def _reading(raw: bytes, address_map: Callable[[str], str] | None = None) -> Any:
    from bounced.parse import ParseError
    from bounced.pipeline import process

    try:
        result = process(raw)
    except ParseError as exc:
        return ("error", exc.code)
    report = result.report
    per = sorted(
        (
            signal.recipient.lower()
            if address_map is None
            else address_map(signal.recipient.lower()),
            signal.reason.value,
            signal.hard,
            signal.status,
        )
        for signal in result.signals
    )
    return (report.kind.value, per)


def _with_second(reading: Any, verdict: tuple[str, bool, str] | None = None) -> Any:
    """What a reading should become with a second recipient that failed as the first did (or
    with the given reason, hard/soft and status)."""
    kind, signals = reading
    if not isinstance(signals, list) or len(signals) != 1:
        return reading
    recipient, *rest = signals[0]
    return kind, sorted([signals[0], ("second." + recipient, *(verdict or rest))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.rglob("*.eml") if p.is_file())
    if not files:
        print(f"no .eml files under {args.corpus}", file=sys.stderr)
        return 2

    def unlonger(address: str) -> str:
        local, _, domain = address.rpartition("@")
        suffix = _longer("")
        return (local[: -len(suffix)] if local.endswith(suffix) else local) + "@" + domain

    print(f"corpus: {len(files)} messages")
    for name, rewrite in REWRITES.items():
        same = applied = 0
        differ: list[str] = []
        for path in files:
            raw = path.read_bytes()
            try:
                rewritten = rewrite(raw)
            except Exception:  # noqa: BLE001 - a message the rewriter cannot handle is skipped
                rewritten = None
            if rewritten is None or rewritten == raw:
                continue
            applied += 1
            before = _reading(raw)
            after = _reading(rewritten, unlonger if name == "addresses" else None)
            if name.startswith("second-"):
                before = _with_second(before)
            elif name == "unknown-second":
                before = _with_second(before, ("userunknown", True, "5.1.1"))
            if before == after:
                same += 1
            else:
                differ.append(f"    {path.relative_to(args.corpus)}: {before} -> {after}")
        share = same / applied if applied else 1.0
        print(f"{name:<18} {same:4d} / {applied:4d} read as expected ({share:.1%})")
        for line in differ[: args.show]:
            print(line[:400])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
