"""Enhanced status codes and reply codes: names, finding them in text, preference, pseudo codes."""

from __future__ import annotations

import pytest

from bounced.classify import status
from bounced.model import Reason

R = Reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("5.1.1", R.USERUNKNOWN),
        ("5.2.2", R.MAILBOXFULL),
        ("4.2.2", R.MAILBOXFULL),
        ("5.2.1", R.FILTERED),
        ("4.2.1", R.BLOCKED),
        ("5.7.26", R.AUTHFAILURE),
        ("5.7.1", R.SECURITYERROR),
        ("4.4.7", R.EXPIRED),
        ("5.0.0", None),
        ("4.7.0", None),
        (None, None),
    ],
)
def test_status_names(code: str | None, reason: Reason | None) -> None:
    """Specific codes name a reason (class-specific); generic ones name none."""
    assert status.reason_of(code) is reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 5.1.1 <a@example.jp>... User Unknown", "5.1.1"),
        ("550 5.0.0 first, then 5.7.1 Access denied", "5.7.1"),
        ("host 5.7.1.20 said: 550 nothing here", None),
        ("Server v5.1.2 ready: 554 rejected", None),
        ("relay 10.5.1.1 said: 550 no", None),
        ("451 4.7.650 rate limited", "4.7.650"),
        ("retry later (#4.4.1)", "4.4.1"),
        ("short", None),
    ],
)
def test_find_status(text: str, expected: str | None) -> None:
    """A status is found in text; IP addresses and version numbers are not codes."""
    assert status.find_status(text) == expected


@pytest.mark.parametrize(
    ("given", "in_text", "reply", "expected"),
    [
        ("5.0.0", "5.1.1", "", "5.1.1"),
        ("5.1.1", "5.0.0", "", "5.1.1"),
        ("5.1.1", "5.7.1", "", "5.7.1"),
        ("5.5.0", "5.7.1", "", "5.7.1"),
        ("4.4.7", "4.4.1", "", "4.4.1"),
        ("5.2.2", "4.2.2", "4", "4.2.2"),
        ("5.2.1", "5.2.2", "", "5.2.1"),
        (None, "5.1.1", "", "5.1.1"),
        ("5.1.1", None, "", "5.1.1"),
    ],
)
def test_prefer(given: str | None, in_text: str | None, reply: str, expected: str) -> None:
    """Of the Status field and the code in the reply, the more specific one is kept."""
    assert status.prefer(given, in_text, reply) == expected


def test_find_reply_prefers_the_list_order_not_the_position() -> None:
    """Of several reply codes the reference parser's order decides (550 before 421)."""
    assert status.find_reply("421 first; later 550 final") == 550
    assert status.find_reply("421 deferred", "4") == 421
    assert status.find_reply("x-unix; 550 whatever") is None
    assert status.find_reply("version 2.550.1 build") is None
    assert status.find_reply("ticket 12550 closed") is None


def test_pseudo_codes() -> None:
    """A recipient without a code gets the internal X.9.NNN code of its reason and class."""
    assert status.pseudo(R.USERUNKNOWN, temporary=False) == "5.9.213"
    assert status.pseudo(R.USERUNKNOWN, temporary=True) is None
    assert status.pseudo(R.FILTERED, temporary=True) == "4.9.210"
    assert status.pseudo(R.EXPIRED, temporary=True) == "4.9.340"
    # Reasons the reference parser merged share a code.
    assert status.pseudo(R.SPEEDING, temporary=True) == status.pseudo(R.TOOMANYCONN, temporary=True)
    # Every reason a bounce can have gets one.
    for reason in R:
        if reason in (R.DELIVERED, R.FEEDBACK, R.VACATION):
            continue
        code = status.pseudo(reason, temporary=False)
        assert code is not None, reason
        assert code.startswith("5.9."), reason


@pytest.mark.parametrize(
    ("reason", "evidence", "hard"),
    [
        (R.USERUNKNOWN, "", True),
        (R.HASMOVED, "5.1.6 moved", True),
        (R.NOTACCEPT, "", True),
        (R.NOTACCEPT, "5.1.10 null MX", True),
        (R.NOTACCEPT, "4.3.2 System not accepting network messages", False),
        (R.SUSPEND, "5.2.1 disabled", False),
        (R.MAILBOXFULL, "5.2.2 full", False),
    ],
)
def test_is_hard(reason: Reason, evidence: str, hard: bool) -> None:
    """Hard bounces: the address is wrong; a null-MX refusal unless it was temporary."""
    assert status.is_hard(reason, evidence) is hard


def test_reply_codes_that_name_a_reason() -> None:
    """RFC reply codes with one meaning name their reason."""
    assert status.REPLY_REASON[556] is R.NOTACCEPT
    assert status.REPLY_REASON[552] is R.MAILBOXFULL
    assert 550 not in status.REPLY_REASON
