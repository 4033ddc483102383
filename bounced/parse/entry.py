"""One place that turns what a reader found about a recipient into an `Entry`.

Readers find a recipient and the text that speaks of it; the status code, the reply code, the
SMTP command and the action are then read out of that text the same way for every format, so
that a fix here helps all of them. A value a reader found by other means (a DSN field, a
provider's JSON) always wins over one read out of the text.
"""

from __future__ import annotations

import re

from bounced.model import DsnAction, Entry, Reason
from bounced.parse import fields as F

# Lines drawn with one punctuation character, and headings between dashes ("----- Transcript
# of session follows -----", sendmail): separators in notices, never part of a reply.
_RULES = re.compile(r"^[ \t]*(?:([-=*_#~+])\1{3,}|-{3,}[^\n-]{1,80}-{3,})[ \t]*$", re.MULTILINE)


def action_of(status: str | None, reply_code: int | None) -> DsnAction:
    """The action a status or reply code implies when the report names none."""
    digit = status[0] if status else str(reply_code)[0] if reply_code else ""
    if digit == "2":
        return DsnAction.DELIVERED
    if digit == "4":
        return DsnAction.DELAYED
    return DsnAction.FAILED


def _from_refusal(text: str) -> tuple[str, int | None]:
    """The text from its first 4xx or 5xx reply on, when a 2xx reply comes before it, and the
    reply code it starts with (the first of the text when it is kept whole).

    The code is the one `F.find_reply_code` would read in the returned text: a reply found in
    the whole text is found at the start of the rest too, where its look-behind sees nothing.
    """
    first = F.REPLY.search(text)
    if first is None:
        return text, None
    if first.group(1)[0] == "2":
        for match in F.REPLY.finditer(text, first.end()):
            if match.group(1)[0] != "2":
                return text[match.start() :], int(match.group(1))
    return text, int(first.group(1))


def make_entry(
    recipient: str,
    diagnostic: str,
    *,
    status: str | None = None,
    action: DsnAction | None = None,
    reply_code: int | None = None,
    command: str | None = None,
    remote_mta: str | None = None,
    hint: Reason | None = None,
    diagnostic_type: str | None = None,
    original_recipient: str | None = None,
) -> Entry:
    """An entry for one recipient; what is not given is read out of the diagnostic."""
    if command is None:
        command = F.find_command(diagnostic)
    if "\n" in diagnostic:
        diagnostic = _RULES.sub("", diagnostic)
    diagnostic = F.collapse(diagnostic)
    # A session transcript quotes the replies that accepted the sender before the one that
    # refused the recipient ("250 2.1.0 Ok ... 552 5.2.2 Mailbox full"): the codes are read
    # from the refusal on (its reply code comes with it: no second search for it).
    if status is None or reply_code is None:
        coded, code_in_text = _from_refusal(diagnostic)
        if status is None:
            status = F.find_status(coded)
        if reply_code is None:
            reply_code = code_in_text
    if action is None:
        action = action_of(status, reply_code)
    if original_recipient is not None and original_recipient.lower() == recipient.lower():
        original_recipient = None
    return Entry(
        recipient=recipient,
        original_recipient=original_recipient,
        action=action,
        status=status,
        reply_code=reply_code,
        diagnostic=diagnostic,
        diagnostic_type=diagnostic_type,
        remote_mta=remote_mta,
        command=command,
        hint=hint,
    )
