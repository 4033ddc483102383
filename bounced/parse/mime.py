"""A small, fast, forgiving MIME reader for returned mail.

Theory of operation: the raw bytes are decoded once to `str` as UTF-8 with surrogate escapes, so
that no byte is lost and every later step is a plain string operation in C (split, find, a few
compiled regexes). Line ends are normalised to LF first. A part is a header block, a body and,
for multipart and message/* types, its children. Bodies are kept raw and decoded on demand
(transfer encoding, then charset), because most of a bounce is never looked at: the returned
message's body in particular is only parsed when a reader asks for it.

The standard library's `email` package with its default policy spends far more time per message
than a whole bounce is worth here, and it is strict where returned mail is broken: truncated
multiparts, missing boundaries, headers without a blank line after them, 8-bit text in any
charset. This reader never raises on malformed structure; it raises `LimitError` only when
the input is over a limit, so that a hostile message cannot make it do unbounded work.
"""

from __future__ import annotations

import base64
import binascii
import re

from bounced.errors import LimitError, ParseError
from bounced.model import Headers, value
from bounced.parse.fields import collapse
from bounced.parse.native import native


@value
class Limits:
    """Bounds on what one message may make the parser do."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 12  # nested multipart and message/* levels
    max_parts: int = 256
    max_headers: int = 1000  # fields in one header block
    max_header_bytes: int = 256 * 1024  # one header block, folded


DEFAULT_LIMITS = Limits()

# Folded header lines (RFC 5322 section 2.2.3): a line end followed by white space.
_FOLD = re.compile(r"\n[ \t]+")
# RFC 2047 encoded words; the encoded text cannot hold "?" or white space, so this is linear.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_ENCODED_GAP = re.compile(r"(\?=)[ \t]+(=\?)")
# A parameter of a structured field: name=value or name="quoted value".
_PARAM = re.compile(
    r';\s*([A-Za-z0-9_.*-]{1,78})\s*=\s*(?:"([^"\\]{0,2000}(?:\\.[^"\\]{0,2000}){0,20})"|([^;\s]{0,2000}))'
)
_TAG = re.compile(r"<[^<>]{0,4000}>")
_HTML_BREAK = re.compile(
    r"</?(?:p|h\d|table|ul|ol|blockquote)\b[^<>]{0,2000}>", re.IGNORECASE
)  # a paragraph
_LINE_BREAK = re.compile(r"<(?:br|/?div|/?tr|/?li|/?center)\b[^<>]{0,2000}>", re.IGNORECASE)
_PRE_OPEN = re.compile(r"<pre\b[^<>]{0,2000}>", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre\s{0,20}>", re.IGNORECASE)
_SPACE_RUNS = re.compile(r"  +")
# Elements whose content is not text; their end tags are looked for with `str.find`-like
# searches (see `_drop_elements`) so that unclosed ones cost linear time. Each name is a group
# of its own, which names the element however the tag spells it: under IGNORECASE "ſtyle" and
# "scrİpt" are such tags too, and lower-casing them does not give the name.
_HTML_DROP_OPEN = re.compile(
    r"<(?:(?P<style>style)|(?P<script>script)|(?P<head>head))\b[^<>]{0,2000}>", re.IGNORECASE
)
_HTML_DROP_CLOSE = {
    name: re.compile(r"</" + name + r"\s{0,20}>", re.IGNORECASE)
    for name in ("style", "script", "head")
}
# One unfolded header line: its name and value. It starts with a line feed rather than "^" and
# is searched in "\n" + block: a literal first character lets the regex engine skip from line
# to line instead of trying every position.
_HEADER_FIELD = re.compile(r"\n([^:\n]{1,200}):([^\n]*)")
# One field of a header block, for picking it out without parsing the block; folded lines kept.
# One pattern per lower-case field name, compiled when first asked for (the names come from the
# code, not from messages); like _HEADER_FIELD, it is searched in "\n" + block.
_FIELD_LINES: dict[str, re.Pattern[str]] = {}
# A header block: a line that starts a field (a name without white space, optional blanks, a
# colon), then every line that continues a field (white space first) or starts one; it ends
# before the first line that does neither, the blank line included. In the later lines the usual
# name, letters, digits and hyphens right before the colon, is tried first: the engine checks
# that class against a bitmap, and "[^\s:]" (which it also matches) one Unicode test at a time.
# Each line can be read one way only, so the repeats are possessive: the engine keeps no
# backtracking state for the lines it has read, however many there are.
_HEADER_BLOCK = re.compile(
    r"[^\s:]{1,80}[ \t]*:[^\n]*+(?:\n(?:[ \t]|[A-Za-z0-9-]{1,80}:|[^\s:]{1,80}[ \t]*:)[^\n]*+)*+"
)
_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n)+")
_TEXT_CHARSET_ALIASES = {
    "utf8": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "cp-850": "cp850",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift-jis": "shift_jis",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso-8859-8",
}


# Charsets a declared one is often mistaken for (tried after UTF-8 when decoding fails).
_MISLABELLED = {
    "iso-2022-jp": ("euc-jp", "cp932"),
    "shift_jis": ("cp932", "euc-jp"),
    "euc-jp": ("cp932",),
    "us-ascii": ("cp1252",),
    "iso-8859-1": ("cp1252",),
}


def to_text(raw: bytes) -> str:
    """Decode a whole message once: LF line ends, UTF-8 with surrogate escapes for other bytes.

    CRLF files lose their CRs (stray ones too, which are noise there); a file with no LF at
    all is an old Mac file whose CRs end lines. Deleting bytes is several times cheaper than
    replacing a two-byte sequence, and `replace` deletes one byte value with a memchr-driven
    copy where `translate` looks every byte up in a table.
    """
    if b"\r" in raw:
        raw = raw.replace(b"\r", b"") if b"\n" in raw else raw.replace(b"\r", b"\n")
    return raw.decode("utf-8", "surrogateescape")


def decode_charset(text: str, charset: str | None) -> str:
    """Re-read text that was decoded as UTF-8 with surrogate escapes in its declared charset."""
    name = _TEXT_CHARSET_ALIASES.get((charset or "").strip().lower(), charset or "utf-8")
    if name == "utf-8" or (text.isascii() and "\x1b" not in text):
        if name == "utf-8" and not text.isascii():
            return _fix_surrogates(text)
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), name)


def decode_bytes(data: bytes, name: str) -> str:
    """Bytes in their declared charset; when that fails, the charsets it is mistaken for.

    Japanese mail in particular often says ISO-2022-JP and is EUC-JP or Shift_JIS. The last
    resort decodes with replacement characters and never fails.
    """
    if not (name.isascii() and name.isprintable()):
        name = "utf-8"  # a charset name with stray bytes or controls in it names no codec
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError):
        pass
    for other in ("utf-8", *_MISLABELLED.get(name.lower(), ())):
        try:
            return data.decode(other)
        except UnicodeDecodeError:
            continue
    try:
        return data.decode(name, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _fix_surrogates(text: str) -> str:
    """Turn stray bytes that were not UTF-8 into latin-1 characters (best effort, never fails)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words in a header value; undecodable words stay as they are."""
    if "=?" not in value:
        return value
    value = _ENCODED_GAP.sub(r"\1\2", value)
    return _ENCODED_WORD.sub(_decode_word, value)


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.group(1), match.group(2), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding in "bB":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = binascii.a2b_qp(payload.replace("_", " ").encode("ascii", "replace"))
        name = _TEXT_CHARSET_ALIASES.get(charset.lower(), charset)
        return data.decode(name, "replace")
    except (ValueError, LookupError, binascii.Error):
        return match.group(0)


def _py_parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a structured field such as Content-Type into its lower-cased value and parameters
    (the first of each name; `parse_params` is this function's C form in the compiled build)."""
    head, sep, _ = value.partition(";")
    params: dict[str, str] = {}
    if sep:
        # findall gives "" for the branch that did not match; an empty quoted value and an
        # empty plain one are the same value.
        for name, quoted, plain in _PARAM.findall(value, len(head)):
            params.setdefault(
                name.lower().rstrip("*"), quoted.replace('\\"', '"') if quoted else plain
            )
    return head.strip().lower(), params


def _py_split_header_block(text: str, start: int = 0) -> tuple[str, int]:
    """Find the header block at `start` (0 <= start <= len(text)): returns the block and where
    the body starts.

    Tolerant of a missing blank line: the block also ends at the first line that is neither a
    field (``name:``) nor a continuation. An mbox ``From `` separator line is skipped.
    """
    while text.startswith("From ", start):
        nl = text.find("\n", start)
        start = len(text) if nl < 0 else nl + 1
    # One match reads the block to its end, the blank line or a stray line before it: no search
    # for the blank line and then for a stray line in front of it.
    block = _HEADER_BLOCK.match(text, start)
    if block is None:  # no field first: an empty block (a blank line right away is skipped)
        return "", start + 2 if text.startswith("\n\n", start) else start
    end = block.end()
    if text.startswith("\n\n", end):
        return text[start:end], end + 2  # the blank line
    return text[start:end], min(end + 1, len(text))  # a stray line starts the body, or none


def check_header_block(block: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise `LimitError` if a header block is over the size or field-count limit."""
    if len(block) > limits.max_header_bytes:
        raise LimitError(
            f"a header block is {len(block)} bytes, over the limit of {limits.max_header_bytes}",
            code="header-too-large",
        )
    # A field takes three characters at least (line end, name, colon): a block no longer than
    # three per allowed field, as nearly all are, cannot have too many and is not counted.
    if (
        len(block) > 3 * limits.max_headers
        and block.count("\n") + 1 > limits.max_headers
        and len(_HEADER_FIELD.findall("\n" + block)) > limits.max_headers
    ):
        raise LimitError(
            f"a header block has more than {limits.max_headers} fields",
            code="too-many-headers",
        )


def _py_field_value(block: str, name: str) -> str:
    """The value of one field of a header block (unfolded), found without parsing the rest.

    `name` is a lower-case field name, matched in any ASCII case. One search of the block for
    the line that starts the field costs less than lower-casing the block to find it in.
    """
    pattern = _FIELD_LINES.get(name)
    if pattern is None:
        pattern = _FIELD_LINES[name] = re.compile(
            r"\n(?ai:" + re.escape(name) + r")[ \t]{0,7}:([^\n]*(?:\n[ \t][^\n]*)*)"
        )
    found = pattern.search("\n" + block)
    if found is None:
        return ""
    value = found.group(1)
    return _FOLD.sub(" ", value).strip() if "\n" in value else value.strip()


def parse_header_block(block: str, limits: Limits = DEFAULT_LIMITS) -> Headers:
    """Parse an unfolded list of `(lower-name, value)` pairs out of a header block."""
    check_header_block(block, limits)
    return _read_fields(block)


def _read_fields(block: str) -> Headers:
    """The fields of a header block already checked against the limits."""
    return Headers(fields=tuple(_fields(block)))


def _py_index_fields(block: str) -> dict[str, list[str]]:
    """The fields of a header block already checked against the limits, by name, each name's
    values in order: one pass for readers that look names up."""
    index: dict[str, list[str]] = {}
    for name, text in _py_fields(block):
        values = index.get(name)
        if values is None:
            index[name] = [text]
        else:
            values.append(text)
    return index


def _py_fields(block: str) -> list[tuple[str, str]]:
    """Each field of a header block as (lower-case name, value), unfolded, in order."""
    if "\n " in block or "\n\t" in block:
        block = _FOLD.sub(" ", block)
    # Lines split and cut at their first colon by str methods: a regex that captures each
    # value costs several times more on the long header blocks of returned messages.
    out = []
    for line in block.split("\n"):
        name, colon, value = line.partition(":")
        if colon and 0 < len(name) <= 200:
            out.append((name.strip().lower(), value.strip()))
    return out


# The compiled build has these functions in C (bounced/parse/native.py): reading header blocks
# was a fifth of the parser's time in Python.
split_header_block = native("split_header_block", _py_split_header_block)
_field_value = native("field_value", _py_field_value)
_fields = native("fields", _py_fields)
_index_fields = native("index_fields", _py_index_fields)
parse_params = native("parse_params", _py_parse_params)


class Part:
    """One MIME entity: headers, a raw body, and children for multipart and message/* types.

    Work is done when first asked for: the header block is checked against the limits at once
    but parsed into fields only when a reader wants them (the type and transfer encoding are
    picked out directly), and children are split on first use, so that the parts no reader
    looks at cost next to nothing.
    """

    __slots__ = (
        "_block",
        "_children",
        "_content_type",
        "_headers",
        "_index",
        "_params",
        "_text",
        "_walker",
        "body",
        "ctype",
        "depth",
        "limits",
    )

    def __init__(self, block: str, body: str, depth: int, limits: Limits = DEFAULT_LIMITS) -> None:
        check_header_block(block, limits)
        self._block = block
        self._headers: Headers | None = None
        self._index: dict[str, list[str]] | None = None
        self.body = body
        self.depth = depth
        self.limits = limits
        value = _field_value(block, "content-type")
        if "=?" in value:
            value = decode_words(value)
        self._content_type = value
        self._params: dict[str, str] | None = None  # read when first asked for
        ctype = value.partition(";")[0].strip().lower()
        if " " in ctype or "\t" in ctype:
            # "text/plain charset=..." with the semicolon missing: keep the type.
            ctype = ctype.split()[0]
        self.ctype = ctype if "/" in ctype else "text/plain"
        self._children: list[Part] = []
        self._walker: Walker | None = None
        self._text: str | None = None

    @property
    def headers(self) -> Headers:
        """The header fields of this part (parsed on first use)."""
        if self._headers is None:
            self._headers = _read_fields(self._block)  # checked when the part was made
        return self._headers

    @property
    def index(self) -> dict[str, list[str]]:
        """The header fields by lower-case name, each name's values in order (built on first
        use): the top-level header of a message is looked up by name, never walked in order."""
        if self._index is None:
            self._index = _index_fields(self._block)  # checked when the part was made
        return self._index

    @property
    def params(self) -> dict[str, str]:
        """The parameters of the Content-Type field, names lower-cased (parsed on first use:
        most parts are never asked for theirs)."""
        if self._params is None:
            self._params = parse_params(self._content_type)[1]
        return self._params

    @property
    def block(self) -> str:
        """The header block as it was written (folded lines kept)."""
        return self._block

    @property
    def transfer_encoding(self) -> str:
        """The Content-Transfer-Encoding, lower-cased; empty when absent."""
        return _field_value(self._block, "content-transfer-encoding").lower()

    def has_field(self, name: str) -> bool:
        """True when the header block has a non-empty field of this (lower-case) name."""
        return _field_value(self._block, name) != ""

    @property
    def children(self) -> list[Part]:
        """The parts inside this one (split on first use)."""
        walker = self._walker
        if walker is not None:
            self._walker = None
            walker.expand(self)
        return self._children

    @property
    def is_multipart(self) -> bool:
        return self.ctype.startswith("multipart/")

    def text(self) -> str:
        """The body with its transfer encoding and charset undone (HTML turned into text)."""
        if self._text is None:
            self._text = _decode_body(self)
        return self._text

    def walk(self) -> list[Part]:
        """This part and every descendant, depth first, in document order."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    def __repr__(self) -> str:
        return f"<Part {self.ctype} {len(self.body)}B {len(self.children)} children>"


def _decode_body(part: Part) -> str:
    cte = part.transfer_encoding
    body = part.body
    data: bytes | None = None
    if cte == "base64":
        try:
            data = binascii.a2b_base64(body.encode("ascii", "ignore"))
        except binascii.Error:
            data = _lenient_b64(body)
    elif cte == "quoted-printable":
        data = binascii.a2b_qp(body.encode("utf-8", "surrogateescape"))
    charset = part.params.get("charset")
    if data is not None:
        name = _TEXT_CHARSET_ALIASES.get((charset or "utf-8").strip().lower(), charset or "utf-8")
        text = decode_bytes(data, name)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = decode_charset(body, charset)
    if part.ctype == "text/html":
        text = html_to_text(text)
    return text


def _lenient_b64(body: str) -> bytes:
    """Decode as much of a damaged base64 body as can be read, line by line."""
    out = []
    for line in body.split("\n"):
        try:
            out.append(binascii.a2b_base64(line.encode("ascii", "ignore")))
        except binascii.Error:
            break
    return b"".join(out)


def _drop_elements(text: str) -> str:
    """The HTML without its style, script and head elements. An element left open is kept,
    and its name is not looked for again: no end tag follows it, so none would be found."""
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    for opening in _HTML_DROP_OPEN.finditer(text):
        name = opening.lastgroup  # the group that matched (None only to the type checker)
        if name is None or opening.start() < pos or name in unclosed:
            continue
        closing = _HTML_DROP_CLOSE[name].search(text, opening.end())
        if closing is None:
            unclosed.add(name)
            continue
        out.append(text[pos : opening.start()])
        pos = closing.end()
    if not out:
        return text
    out.append(text[pos:])
    return " ".join(out)


def html_to_text(text: str) -> str:
    """A rough rendering of HTML as text: enough to read an error message out of it.

    As a browser renders it: outside `<pre>`, white space (line ends included) is one space,
    `<br>`, divisions, table rows and list items end a line, and paragraphs, headings, tables
    and lists end a paragraph; inside `<pre>` the text keeps its lines.
    """
    text = _drop_elements(text)
    pieces: list[str] = []
    pos = 0
    while (opening := _PRE_OPEN.search(text, pos)) is not None:
        closing = _PRE_CLOSE.search(text, opening.end())
        if closing is None:
            break
        pieces.append(_flow(text[pos : opening.start()]))
        pieces.append(_TAG.sub("", text[opening.end() : closing.start()]))
        pos = closing.end()
    pieces.append(_flow(text[pos:]))
    # Imported here: the html module's table of 2,200 entities is a millisecond of every start
    # of `bounced parse`, and few notices are HTML only.
    import html  # noqa: PLC0415

    text = html.unescape("\n".join(pieces))
    return _BLANK_RUNS.sub("\n\n", text)


def _flow(text: str) -> str:
    """HTML outside `<pre>` as lines: white space collapsed, breaks where the tags put them."""
    text = collapse(text)
    text = _LINE_BREAK.sub("\n", text)
    text = _HTML_BREAK.sub("\n\n", text)
    text = _SPACE_RUNS.sub(" ", _TAG.sub(" ", text))
    # No two spaces are left side by side, so each line end has at most one on either side:
    # two replacements take them, several times faster than a pattern with no literal to find.
    return text.replace(" \n", "\n").replace("\n ", "\n")


class Walker:
    """Builds the part tree of one message while counting parts against the limits."""

    __slots__ = ("limits", "parts")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.parts = 0

    def entity(self, text: str, start: int, depth: int) -> Part:
        if depth > self.limits.max_depth:
            raise LimitError(
                f"MIME nesting is deeper than the limit of {self.limits.max_depth}",
                code="mime-depth",
            )
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise LimitError(
                f"the message has more than {self.limits.max_parts} MIME parts",
                code="too-many-parts",
            )
        block, body_start = split_header_block(text, start)
        part = Part(block, text[body_start:], depth, self.limits)
        if part.ctype.startswith("multipart/"):
            boundary = part.params.get("boundary")
            if not boundary or ("--" + boundary) not in part.body:
                # Broken or missing boundary: keep the body as one text part to be read.
                part.ctype = "text/plain"
            else:
                part._walker = self
        elif part.ctype in ("message/rfc822", "message/global") and part.body:
            part._walker = self
        return part

    def expand(self, part: Part) -> None:
        """Find the children of a multipart or message/* part."""
        if part.ctype.startswith("multipart/"):
            self._split(part)
        else:
            part._children.append(self._embedded(part))

    def _embedded(self, part: Part) -> Part:
        body = part.body
        if part.transfer_encoding in ("base64", "quoted-printable"):
            body = part.text()
        return self.entity(body.lstrip("\n"), 0, part.depth + 1)

    def _split(self, part: Part) -> None:
        boundary = part.params["boundary"]
        body = "\n" + part.body
        if "\n --" + boundary in body or "\n\t--" + boundary in body:
            # Delimiters sometimes come indented by a stray space: accept a little white space.
            pieces = re.split(r"\n[ \t]{0,4}--" + re.escape(boundary), body)
        else:
            pieces = body.split("\n--" + boundary)
        for piece in pieces[1:]:
            if piece.startswith("--"):
                break
            nl = piece.find("\n")
            if nl < 0:
                continue
            part._children.append(self.entity(piece, nl + 1, part.depth + 1))


def check_size(size: int, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise `LimitError` if a message of `size` bytes is over the size limit."""
    if size > limits.max_bytes:
        raise LimitError(
            f"the message is {size} bytes, over the limit of {limits.max_bytes}", code="too-large"
        )


def parse_message(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Part:
    """Parse a whole message into its part tree. Raises only `ParseError` (and subclasses)."""
    check_size(len(raw), limits)
    text = to_text(raw) if isinstance(raw, bytes) else raw
    text = text.lstrip("\n")
    if not text.strip():
        raise ParseError("the message is empty", code="empty")
    return Walker(limits).entity(text, 0, 0)


def parse_headers_text(text: str, limits: Limits = DEFAULT_LIMITS) -> Headers:
    """Parse a text that starts with header fields (text/rfc822-headers, a pasted original)."""
    block, _ = split_header_block(text.lstrip("\n"), 0)
    return parse_header_block(block, limits)
