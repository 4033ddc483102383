"""Mailing-list managers that refuse a post: fml and Google Groups.

The failed "recipient" here is the list address: the post did not reach the list, whatever
the list members' mailboxes would have said. A refusal because the sender is not a member is
a rejection by the list's policy, which the notice states in so many words.
"""

from __future__ import annotations

import re

from bounced.model import Entry, Reason
from bounced.parse import fields as F
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry
from bounced.parse.message import Mail
from bounced.parse.notice import Hint, hint_of

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats

# --- fml --------------------------------------------------------------------------------------
# fml 4 (www.fml.org) error notices: the subject or the text names the refusal; the list
# address is the one in angle brackets.
_FML_HINTS: tuple[Hint, ...] = (
    (
        re.compile(
            r"are not (?:a )?member|NOT MEMBER article from|reject mail |reject spammers:|"
            r"Spam mail from a spammer is rejected|header may cause mail loop"
        ),
        R.REJECTED,
    ),
    (re.compile(r"Security [Aa]lert"), R.SECURITYERROR),
    (
        re.compile(
            r"Duplicated Message-ID|Loop Alert: |Loop Back Warning|WARNING: UNIX FROM Loop|"
            r"has detected a loop condition|fml system error message"
        ),
        R.SYSTEMERROR,
    ),
)
_ANGLED = re.compile(r"<(?P<addr>" + F.LOCAL + "@" + F.DOMAIN + r")>", re.ASCII)


def _is_fml(mail: Mail) -> bool:
    return mail.has("x-mlserver") and (
        "-admin@" in mail.sender or ".FML" in mail.field("message-id")
    )


@REGISTRY.reader("fml", _is_fml)
def read_fml(mail: Mail) -> list[Entry]:
    """fml: the list address in angle brackets, on the line that says what went wrong."""
    text = mail.notice
    match = _ANGLED.search(text)
    if match is None:
        return []
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : len(text) if line_end < 0 else line_end]
    hint = hint_of(line, _FML_HINTS) or hint_of(mail.subject, _FML_HINTS)
    return [make_entry(match.group("addr"), line, hint=hint)]


# --- Google Groups ----------------------------------------------------------------------------
# The notice Google Groups sends in the poster's language: the group "may not exist, or you may
# not have permission to post", then four bulleted possible causes. The list address is in
# X-Failed-Recipients.
_GROUPS_REFUSAL: tuple[Hint, ...] = (
    (
        re.compile(
            r"may not exist, or you may not have permission to post|"
            r"(?:\n ?\* [^\n]{1,300}(?:\n[ \t]+[^\n*][^\n]{0,300}){0,4}){4}"  # folded too
        ),
        R.REJECTED,
    ),
)


def _is_google_groups(mail: Mail) -> bool:
    return (
        mail.has("x-failed-recipients")
        and "googlemail.com" in mail.sender
        and "Google Groups" in mail.notice
    )


@REGISTRY.reader("google-groups", _is_google_groups)
def read_google_groups(mail: Mail) -> list[Entry]:
    """Google Groups: every address of X-Failed-Recipients, the notice as the diagnostic."""
    paragraphs = [p for p in mail.notice.strip().split("\n\n") if p.strip()]
    if len(paragraphs) > 1 and len(paragraphs[0]) < 200:
        paragraphs = paragraphs[1:]  # "Hello <poster>,"
    diagnostic = "\n".join(paragraphs[:2])  # the explanation and its bullets
    hint = hint_of(diagnostic, _GROUPS_REFUSAL)
    return [make_entry(a, diagnostic, hint=hint) for a in mail.failed_recipients]
