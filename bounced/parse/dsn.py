"""RFC 3464 delivery status notifications (and their RFC 1894 ancestors).

The machine-readable part (message/delivery-status) is a block of per-message fields followed
by one block per recipient, blocks separated by blank lines. Real reports bend every rule, and
this reader bends with them:

* blocks not separated by blank lines: a recipient field (or Action, Status, Diagnostic-Code)
  that is already set in the current group starts the next group;
* fields in any order: a group that starts with Action and names its recipient last (Mimecast,
  Sun Messaging Server) is one group, not two;
* Final-Recipient that is not an address (a pipe, a file, ``@host`` with no local part, a
  source route): Original-Recipient, X-Actual-Recipient, the notice and the bounce's
  X-Failed-Recipients stand in, in that order;
* ``rfc822;``, ``RFC/822;``, angle brackets and comments around addresses;
* status fields holding free text, folded Diagnostic-Code over many lines;
* the fields pasted into a plain-text body instead of a status part (old sendmail, PMDF,
  broken multiparts): `find_inline` locates them.

`parse_status` reads the fields; `read_groups` turns each group into an entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bounced.model import DsnAction, Entry, Reason
from bounced.parse import fields as F
from bounced.parse.entry import make_entry
from bounced.parse.mime import parse_header_block
from bounced.parse.notice import remote_host

_RECIPIENT_SLOTS = {
    "final-recipient": "final",
    "original-recipient": "original",
    "x-actual-recipient": "actual",
}
# Per-recipient fields (RFC 3464 section 2.3 and common extensions); anything else before the
# first recipient group is a per-message field.
_PER_RECIPIENT = frozenset(
    {
        "action",
        "status",
        "diagnostic-code",
        "remote-mta",
        "last-attempt-date",
        "will-retry-until",
        "final-log-id",
        "x-supplementary-info",
        "x-display-name",
    }
)
_ACTIONS = {
    "failed": DsnAction.FAILED,
    "failure": DsnAction.FAILED,
    "fail": DsnAction.FAILED,
    "expired": DsnAction.FAILED,
    "delayed": DsnAction.DELAYED,
    "delay": DsnAction.DELAYED,
    "delivered": DsnAction.DELIVERED,
    "deliverable": DsnAction.DELIVERED,
    "relayed": DsnAction.RELAYED,
    "expanded": DsnAction.EXPANDED,
}
# A DSN field at the start of a line, for finding fields pasted into a plain-text body.
_INLINE_FIELD = re.compile(
    r"^(?:Reporting-MTA|Received-From-MTA|Arrival-Date|Original-Envelope-Id|X-Postfix-[\w-]{1,30}|"
    r"Final-Recipient|Original-Recipient|X-Actual-Recipient|Action|Status|Remote-MTA|"
    r"Diagnostic-Code|Last-Attempt-Date|Will-Retry-Until|Final-Log-ID|DSN-Gateway)[ \t]{0,4}:",
    re.IGNORECASE | re.MULTILINE,
)
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
# Status comments that only restate the code's class or subject (RFC 3463 names such as
# "permanent failure", "other or undefined network or routing status"); no diagnostic.
_CODE_NAME = re.compile(
    r"(?:permanent|persistent transient|transient|temporary) failure|"
    r"(?:other or )?undefined[\w ]{0,40}status",
    re.IGNORECASE,
)
# The recipient field that shows fields were pasted into a text. It is looked for in every
# notice, so it starts with a newline rather than "^": a literal first character lets the regex
# engine skip from line to line instead of trying every position (`find_inline` puts a newline
# in front of the text so that its first line counts too).
_INLINE_RECIPIENT = re.compile(r"\n(?:Final|Original)-Recipient[ \t]{0,4}:", re.IGNORECASE)
_INLINE_ACTION = re.compile(r"^(?:Action|Status)[ \t]{0,4}:", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class RecipientFields:
    """The per-recipient fields of a DSN, as found."""

    final: str | None = None
    original: str | None = None
    actual: str | None = None
    action: str | None = None
    status: str | None = None
    diagnostic: str | None = None
    diagnostic_type: str | None = None
    remote_mta: str | None = None
    starts_with_recipient: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_recipient(self) -> bool:
        return bool(self.final or self.original or self.actual)

    @property
    def recipient(self) -> str | None:
        """The best address the group names: Final-Recipient if it is one, else a stand-in."""
        for value in (self.final, self.original, self.actual):
            if value:
                address = F.clean_address(value)
                if F.is_address(address):
                    return address
        return None

    @property
    def raw_recipient(self) -> str | None:
        """What Final-Recipient (or its stand-in) says, address or not."""
        for value in (self.final, self.original, self.actual):
            if value:
                return F.clean_address(value) or None
        return None


@dataclass(slots=True)
class StatusFields:
    """A parsed message/delivery-status body."""

    message: dict[str, str] = field(default_factory=dict)
    recipients: list[RecipientFields] = field(default_factory=list)


def parse_status(text: str) -> StatusFields:
    """Read a message/delivery-status body into per-message and per-recipient fields."""
    out = StatusFields()
    for block in _blocks(text):
        current: RecipientFields | None = None
        for name, value in parse_header_block(block).fields:
            slot = _RECIPIENT_SLOTS.get(name)
            if slot is None and name not in _PER_RECIPIENT:
                if current is None:
                    out.message.setdefault(name, value)
                else:
                    current.extra.setdefault(name, value)
                continue
            if current is None or _starts_new_group(current, name, slot):
                current = RecipientFields(starts_with_recipient=slot is not None)
                out.recipients.append(current)
            _set(current, name, slot, value)
    out.recipients = _merge_orphans(out.recipients)
    return out


def _blocks(text: str) -> list[str]:
    """The blank-line separated blocks of a status body (continuation lines kept)."""
    return [block for block in _BLANK_LINES.split(text) if block.strip()]


def _starts_new_group(current: RecipientFields, name: str, slot: str | None) -> bool:
    if slot is not None:
        if getattr(current, slot) is not None:
            return True
        # "Final-Recipient, Action, ..., Original-Recipient, Final-Recipient": the next group.
        return current.starts_with_recipient and current.action is not None
    if not current.has_recipient:
        return False
    if name == "action":
        return current.action is not None
    if name == "status":
        return current.status is not None
    if name == "diagnostic-code":
        return current.diagnostic is not None
    return False


def _set(current: RecipientFields, name: str, slot: str | None, value: str) -> None:
    if slot is not None:
        setattr(current, slot, value)
    elif name == "action":
        current.action = value
    elif name == "status":
        current.status = value
    elif name == "diagnostic-code":
        current.diagnostic_type, current.diagnostic = F.split_type(value)
    elif name == "remote-mta":
        current.remote_mta = value
    else:
        current.extra.setdefault(name, value)


def _merge_orphans(groups: list[RecipientFields]) -> list[RecipientFields]:
    """Fold a group without a recipient into the next one (fields split by a blank line)."""
    out: list[RecipientFields] = []
    pending: RecipientFields | None = None
    for group in groups:
        if pending is not None:
            for name in ("action", "status", "diagnostic", "diagnostic_type", "remote_mta"):
                if getattr(group, name) is None:
                    setattr(group, name, getattr(pending, name))
            pending = None
        if group.has_recipient:
            out.append(group)
        else:
            pending = group
    return out


def find_inline(text: str) -> str | None:
    """The DSN fields pasted into a plain-text body, if there are some, as one text."""
    recipient = _INLINE_RECIPIENT.search("\n" + text)
    if recipient is None:
        return None
    at = recipient.start()  # where its line starts in `text`
    if _INLINE_ACTION.search(text, max(0, at - 2000)) is None:
        return None
    first = _INLINE_FIELD.search(text, max(0, at - 3000))
    start = first.start() if first is not None else at
    lines: list[str] = []
    for line in text[start:].split("\n"):
        if (
            not line.strip()
            or line[0] in " \t"
            or _INLINE_FIELD.match(line)
            or line[:2].lower() == "x-"
        ):
            lines.append(line)
        else:
            break
    return "\n".join(lines)


def parse_action(value: str | None) -> DsnAction | None:
    """The DSN action named by a field value (tolerating the common misspellings)."""
    if not value:
        return None
    word = value.strip().lower().split(" ", 1)[0].rstrip(".;:,")
    return _ACTIONS.get(word)


def read_groups(
    status: StatusFields,
    stand_ins: list[str] | None = None,
    recipients: list[str | None] | None = None,
) -> list[tuple[RecipientFields, Entry]]:
    """One entry per recipient group, with the group it came from.

    A group whose recipient is not an address takes the next unused stand-in (the bounce's
    X-Failed-Recipients, addresses the notice names) when there is one. `recipients` is each
    group's `recipient` when the caller has read them already (each costs a pattern match).
    """
    out: list[tuple[RecipientFields, Entry]] = []
    seen: set[str] = set()
    spare = [a for a in (stand_ins or []) if F.is_address(a)]
    if recipients is None:
        recipients = [group.recipient for group in status.recipients]
    for group, named in zip(status.recipients, recipients, strict=True):
        recipient = named if named is not None else _stand_in(group, spare, seen)
        if recipient is None:
            continue
        key = recipient.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append((group, _entry(group, recipient)))
    return out


def _stand_in(group: RecipientFields, spare: list[str], seen: set[str]) -> str | None:
    """An address for a group whose Final-Recipient is none: one named in it, else a spare."""
    raw = group.raw_recipient or ""
    inside = F.find_address(raw)
    if inside is not None and "@" in raw and not raw.startswith("@"):
        candidates = [a for a in spare if a.lower() == inside.lower()]
        if candidates or not spare:
            return inside
    for address in spare:
        if address.lower() not in seen:
            return address
    return None


# Postfix's own words in an X-Postfix diagnostic (local(8) and its DNS lookups), which state
# the reason themselves: not a remote server's reply.
POSTFIX_HINTS: tuple[tuple[re.Pattern[str], Reason], ...] = (
    (re.compile(r"^unknown user: "), Reason.USERUNKNOWN),
    (
        re.compile(r"Name service error for name=\S{1,255} type=\w{1,5}: Host not found(?!, try)"),
        Reason.HOSTUNKNOWN,
    ),
)


# PowerMTA's own verdict on each recipient, in its X-PowerMTA-BounceCategory field (the
# categories of its bounce-category-patterns); "other" and unknown names say nothing.
_POWERMTA_CATEGORIES = {
    "bad-domain": Reason.HOSTUNKNOWN,
    "bad-mailbox": Reason.USERUNKNOWN,
    "inactive-mailbox": Reason.SUSPEND,
    "message-expired": Reason.EXPIRED,
    "no-answer-from-host": Reason.NETWORKERROR,
    "policy-related": Reason.POLICYVIOLATION,
    "quota-issues": Reason.MAILBOXFULL,
    "routing-errors": Reason.SYSTEMERROR,
    "spam-related": Reason.SPAMDETECTED,
}


def _own_hint(group: RecipientFields, diagnostic: str) -> Reason | None:
    category = group.extra.get("x-powermta-bouncecategory")
    if category is not None:
        return _POWERMTA_CATEGORIES.get(category.strip().lower())
    if group.diagnostic_type != "x-postfix":
        return None
    for pattern, reason in POSTFIX_HINTS:
        if pattern.search(diagnostic):
            return reason
    return None


def _comment(value: str | None) -> str:
    """The comment of a Status field ("4.0.0 (example.net: host name lookup failure)")."""
    if not value or "(" not in value:
        return ""
    comment = value[value.find("(") + 1 :].rstrip().rstrip(")")
    return "" if _CODE_NAME.fullmatch(comment.strip()) else comment


def _entry(group: RecipientFields, recipient: str) -> Entry:
    action_word = (group.action or "").strip().lower()
    original = F.clean_address(group.original) if group.original else None
    diagnostic = group.diagnostic or _comment(group.status)
    status = F.preferred_status(F.find_status(group.status or ""), F.find_status(diagnostic))
    return make_entry(
        recipient,
        diagnostic,
        status=status,
        action=parse_action(group.action),
        remote_mta=F.host_of(group.remote_mta) or remote_host(diagnostic),
        hint=Reason.EXPIRED if action_word.startswith("expired") else _own_hint(group, diagnostic),
        diagnostic_type=group.diagnostic_type,
        original_recipient=original if original and F.is_address(original) else None,
    )
