"""RFC 3464 delivery status notifications.

The machine-readable part (message/delivery-status) is a block of per-message fields followed
by one block per recipient. Real reports bend every rule: blocks not separated by blank lines,
Final-Recipient missing (then Original-Recipient or X-Actual-Recipient stands in), status
fields holding free text, Diagnostic-Code folded over many lines, or no diagnostic at all
(then the human-readable part is read for the reply the remote host gave). This module reads
the fields; `read_dsn` turns them into entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bounced.model import DsnAction, Entry
from bounced.parse import fields as F
from bounced.parse.mime import parse_header_block

_RECIPIENT_FIELDS = ("final-recipient", "original-recipient", "x-actual-recipient")
_ACTIONS = {
    "failed": DsnAction.FAILED,
    "failure": DsnAction.FAILED,
    "delayed": DsnAction.DELAYED,
    "delivered": DsnAction.DELIVERED,
    "deliverable": DsnAction.DELIVERED,
    "relayed": DsnAction.RELAYED,
    "expanded": DsnAction.EXPANDED,
    "expired": DsnAction.DELAYED,
}


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
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def recipient(self) -> str | None:
        for value in (self.final, self.original, self.actual):
            if value:
                address = F.clean_address(value)
                if "@" in address:
                    return address
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
    headers = parse_header_block(_strip_blank_lines(text))
    out = StatusFields()
    current: RecipientFields | None = None
    for name, value in headers.fields:
        if name in _RECIPIENT_FIELDS:
            slot = {"final-recipient": "final", "original-recipient": "original"}.get(
                name, "actual"
            )
            # A recipient field already set in the current group starts a new group; so does a
            # recipient after the group's Action (blocks not separated by blank lines).
            if (
                current is None
                or getattr(current, slot) is not None
                or (slot != "actual" and current.action is not None)
            ):
                current = RecipientFields()
                out.recipients.append(current)
            setattr(current, slot, value)
            continue
        if current is None:
            out.message.setdefault(name, value)
            if name not in ("action", "status", "diagnostic-code", "remote-mta"):
                continue
            current = RecipientFields()
            out.recipients.append(current)
        if name == "action":
            current.action = current.action or value
        elif name == "status":
            current.status = current.status or value
        elif name == "diagnostic-code":
            if current.diagnostic is None:
                current.diagnostic_type, current.diagnostic = F.split_type(value)
        elif name == "remote-mta":
            current.remote_mta = current.remote_mta or value
        else:
            current.extra.setdefault(name, value)
    return out


def _strip_blank_lines(text: str) -> str:
    """Join the blocks of a status body so that one header parser reads them all."""
    lines = [line for line in text.split("\n") if line.strip()]
    return "\n".join(lines)


def parse_action(value: str | None) -> DsnAction | None:
    """The DSN action named by a field value (tolerating the common misspellings)."""
    if not value:
        return None
    word = value.strip().lower().split(" ", 1)[0].rstrip(".;:")
    return _ACTIONS.get(word)


def entries_from_status(status: StatusFields, notice: str) -> list[Entry]:
    """One entry per recipient group; the notice text fills in a missing diagnostic."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for group in status.recipients:
        recipient = group.recipient
        if not recipient or recipient.lower() in seen:
            continue
        seen.add(recipient.lower())
        action = parse_action(group.action)
        status_code = F.find_status(group.status or "")
        diagnostic = F.collapse(group.diagnostic or "")
        if not diagnostic and notice:
            diagnostic = notice_paragraph(notice, recipient)
        if action is None:
            action = _action_from_status(status_code)
        original = F.clean_address(group.original) if group.original else None
        entries.append(
            Entry(
                recipient=recipient,
                original_recipient=original if original and original != recipient else None,
                action=action,
                status=status_code,
                reply_code=F.find_reply_code(diagnostic),
                diagnostic=diagnostic,
                diagnostic_type=group.diagnostic_type,
                remote_mta=F.host_of(group.remote_mta),
                command=F.find_command(diagnostic),
            )
        )
    return entries


def _action_from_status(status: str | None) -> DsnAction:
    if status and status[0] == "2":
        return DsnAction.DELIVERED
    if status and status[0] == "4":
        return DsnAction.DELAYED
    return DsnAction.FAILED


def notice_paragraph(notice: str, recipient: str) -> str:
    """The paragraph of a notice that speaks of one recipient (its diagnostic, usually)."""
    lowered = notice.lower()
    at = lowered.find(recipient.lower())
    if at < 0:
        return ""
    start = lowered.rfind("\n\n", 0, at)
    start = 0 if start < 0 else start + 2
    end = lowered.find("\n\n", at)
    # Keep the next paragraph when this one is only the address line (Exim, qmail, Courier).
    if end >= 0 and "\n" not in notice[at:end].strip():
        following = lowered.find("\n\n", end + 2)
        end = len(notice) if following < 0 else following
    return F.collapse(notice[start : len(notice) if end < 0 else end])
