"""Reason -> category, default action and hard flag (DESIGN.md, classify).

Rule 1: one row per reason, and every reason has a row (a test checks it).
Rule 2: `hard` is Sisimai's notion: the address itself does not exist or will never accept mail
(userunknown, hostunknown, hasmoved, notaccept). A suspended mailbox is in the hard category
(suppress) but is not a hard bounce: accounts come back.
Rule 3: a reason that is hard by nature but came with a temporary (4xx) reply is not hard for
that recipient (a domain temporarily "not accepting mail"): it falls to the soft category.
"""

from __future__ import annotations

from bounced.model import Action, Category, Reason

R = Reason
C = Category
A = Action

# reason: (category, default action, hard)
TABLE: dict[Reason, tuple[Category, Action, bool]] = {
    R.USERUNKNOWN: (C.HARD, A.SUPPRESS, True),
    R.HOSTUNKNOWN: (C.HARD, A.SUPPRESS, True),
    R.HASMOVED: (C.HARD, A.SUPPRESS, True),
    R.NOTACCEPT: (C.HARD, A.SUPPRESS, True),
    R.SUSPEND: (C.HARD, A.SUPPRESS, False),
    R.MAILBOXFULL: (C.SOFT, A.COUNT, False),
    R.EXCEEDLIMIT: (C.SOFT, A.COUNT, False),
    R.SYSTEMFULL: (C.SOFT, A.COUNT, False),
    R.MESGTOOBIG: (C.SOFT, A.COUNT, False),
    R.EXPIRED: (C.SOFT, A.COUNT, False),
    R.NETWORKERROR: (C.SOFT, A.COUNT, False),
    R.SYSTEMERROR: (C.SOFT, A.COUNT, False),
    R.MAILERERROR: (C.SOFT, A.COUNT, False),
    R.ONHOLD: (C.SOFT, A.COUNT, False),
    R.UNDEFINED: (C.SOFT, A.COUNT, False),
    R.NORELAYING: (C.SOFT, A.COUNT, False),  # the recipient domain's MX does not host it
    R.BLOCKED: (C.BLOCK, A.REPUTATION, False),
    R.BADREPUTATION: (C.BLOCK, A.REPUTATION, False),
    R.REQUIREPTR: (C.BLOCK, A.REPUTATION, False),
    R.SPAMDETECTED: (C.BLOCK, A.REPUTATION, False),
    R.VIRUSDETECTED: (C.BLOCK, A.REPUTATION, False),
    R.FILTERED: (C.BLOCK, A.REPUTATION, False),
    R.REJECTED: (C.BLOCK, A.REPUTATION, False),
    R.POLICYVIOLATION: (C.BLOCK, A.REPUTATION, False),
    R.CONTENTERROR: (C.BLOCK, A.REPUTATION, False),
    R.TOOMANYCONN: (C.RATE, A.THROTTLE, False),
    R.SPEEDING: (C.RATE, A.THROTTLE, False),
    R.AUTHFAILURE: (C.AUTH, A.ALERT, False),
    R.SECURITYERROR: (C.AUTH, A.ALERT, False),
    R.FAILEDSTARTTLS: (C.AUTH, A.ALERT, False),
    R.NOTCOMPLIANTRFC: (C.AUTH, A.ALERT, False),
    R.SYNTAXERROR: (C.AUTH, A.ALERT, False),
    R.FEEDBACK: (C.COMPLAINT, A.SUPPRESS_CLIENT, False),
    R.VACATION: (C.AUTO_REPLY, A.IGNORE, False),
    R.DELIVERED: (C.DELIVERED, A.DELIVERED, False),
}

# Reasons about the recipient's address or mailbox (and non-failures): common wording of a reply
# never moves them to a sender-side category (classify/replies.py, Rule 3).
ADDRESS_REASONS = frozenset(
    {
        R.USERUNKNOWN,
        R.HOSTUNKNOWN,
        R.HASMOVED,
        R.NOTACCEPT,
        R.SUSPEND,
        R.MAILBOXFULL,
        R.EXCEEDLIMIT,
        R.SYSTEMFULL,
        R.MESGTOOBIG,
        R.DELIVERED,
        R.FEEDBACK,
        R.VACATION,
    }
)


def of(reason: Reason, hard: bool) -> tuple[Category, Action]:
    """The category and default action of a reason (Rule 3: a temporary refusal of a whole
    domain, a 4xx "not accepting mail", is counted, not suppressed)."""
    category, action, always_hard = TABLE[reason]
    if always_hard and not hard:
        return C.SOFT, A.COUNT
    return category, action
