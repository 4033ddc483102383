"""The reason -> category/action/hard table and its temporary-refusal rule."""

from __future__ import annotations

import pytest

from bounced.classify import categories
from bounced.model import Action, Category, Reason

R = Reason


def test_every_reason_has_a_row() -> None:
    """Every reason of the vocabulary has a category, an action and a hard flag."""
    assert set(categories.TABLE) == set(Reason)


@pytest.mark.parametrize(
    ("reason", "category", "action"),
    [
        (R.USERUNKNOWN, Category.HARD, Action.SUPPRESS),
        (R.MAILBOXFULL, Category.SOFT, Action.COUNT),
        (R.BADREPUTATION, Category.BLOCK, Action.REPUTATION),
        (R.TOOMANYCONN, Category.RATE, Action.THROTTLE),
        (R.SPEEDING, Category.RATE, Action.THROTTLE),
        (R.AUTHFAILURE, Category.AUTH, Action.ALERT),
        (R.FEEDBACK, Category.COMPLAINT, Action.SUPPRESS_CLIENT),
        (R.VACATION, Category.AUTO_REPLY, Action.IGNORE),
        (R.DELIVERED, Category.DELIVERED, Action.DELIVERED),
    ],
)
def test_design_table_rows(reason: Reason, category: Category, action: Action) -> None:
    """The rows follow DESIGN.md's classify table."""
    assert categories.TABLE[reason][:2] == (category, action)


def test_hard_bounce_reasons_are_the_address_reasons() -> None:
    """Only reasons about the address itself are hard by nature; a suspended box is not."""
    hard = {reason for reason, (_, _, is_hard) in categories.TABLE.items() if is_hard}
    assert hard == {R.USERUNKNOWN, R.HOSTUNKNOWN, R.HASMOVED, R.NOTACCEPT}


def test_temporary_refusal_of_a_domain_is_counted_not_suppressed() -> None:
    """A 4xx "not accepting mail" (not a hard bounce) falls to the soft category."""
    assert categories.of(R.NOTACCEPT, hard=True) == (Category.HARD, Action.SUPPRESS)
    assert categories.of(R.NOTACCEPT, hard=False) == (Category.SOFT, Action.COUNT)


def test_suspend_stays_in_the_hard_category_without_being_hard() -> None:
    """A suspended mailbox is suppressed though Sisimai does not call it a hard bounce."""
    assert categories.of(R.SUSPEND, hard=False) == (Category.HARD, Action.SUPPRESS)
