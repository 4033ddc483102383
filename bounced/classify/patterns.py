"""Reply-text patterns -> reason.

Rule 1: each reason has one compiled alternation of lower-case phrases; `ORDER` says which
reasons are tried first when several match, most specific first.
Rule 2: phrases are plain text with at most bounded gaps (``.{0,40}``), so matching is linear.
"""

from __future__ import annotations

import re

from bounced.model import Reason

R = Reason


def _any(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in phrases))


PATTERNS: dict[Reason, re.Pattern[str]] = {
    R.MAILBOXFULL: _any(
        r"mailbox (?:is )?full",
        r"over ?quota",
        r"quota exceeded",
        r"disk quota",
        r"mailbox.{0,20}exceed",
        r"insufficient (?:disk )?space",
        r"user.{0,20}over quota",
    ),
    R.USERUNKNOWN: _any(
        r"user unknown",
        r"unknown user",
        r"no such (?:user|mailbox|recipient|address)",
        r"(?:mailbox|recipient|user|address) (?:does not|doesn't) exist",
        r"recipient (?:address )?rejected",
        r"invalid recipient",
        r"mailbox not found",
        r"mailbox unavailable",
        r"not a valid mailbox",
        r"unknown recipient",
        r"recipient name is not recognized",
        r"user not found",
        r"address unknown",
    ),
    R.HOSTUNKNOWN: _any(
        r"host unknown",
        r"unknown host",
        r"no such domain",
        r"domain (?:does not|doesn't) exist",
        r"name or service not known",
        r"host or domain name not found",
        r"unrouteable address",
    ),
    R.SUSPEND: _any(
        r"account (?:is )?(?:disabled|suspended|inactive)", r"mailbox (?:is )?disabled"
    ),
    R.EXPIRED: _any(
        r"retry time(?:out)? (?:not reached|exceeded)",
        r"delivery time expired",
        r"message expired",
        r"too long in queue",
        r"could not be delivered for",
    ),
    R.SPAMDETECTED: _any(r"\bspam\b", r"\bube\b", r"junk mail"),
    R.BLOCKED: _any(
        r"blacklist",
        r"blocklist",
        r"block ?listed",
        r"\brbl\b",
        r"spamhaus",
        r"access denied",
        r"ip .{0,20} (?:is )?blocked",
    ),
    R.NORELAYING: _any(
        r"relay(?:ing)? (?:access )?denied", r"not permitted to relay", r"relay not permitted"
    ),
    R.TOOMANYCONN: _any(r"too many connections"),
}

ORDER: tuple[Reason, ...] = (
    R.MAILBOXFULL,
    R.SUSPEND,
    R.NORELAYING,
    R.USERUNKNOWN,
    R.HOSTUNKNOWN,
    R.SPAMDETECTED,
    R.TOOMANYCONN,
    R.BLOCKED,
    R.EXPIRED,
)


def match(text: str) -> Reason | None:
    """The first reason in `ORDER` whose pattern matches the lower-cased text."""
    for reason in ORDER:
        if PATTERNS[reason].search(text):
            return reason
    return None
