"""The model's value classes: keyword-only, compared and hashed by value, copied by `replace`."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, fields, replace

import pytest

from bounced.model import (
    UNATTRIBUTED,
    Action,
    Attribution,
    AttributionSource,
    Category,
    DsnAction,
    Entry,
    Feedback,
    FeedbackType,
    Headers,
    Kind,
    Provider,
    Reason,
    Report,
    Signal,
    Verdict,
)

_VERDICT = Verdict(
    reason=Reason.USERUNKNOWN,
    category=Category.HARD,
    action=Action.SUPPRESS,
    hard=True,
    status="5.1.1",
    reply_code=550,
    provider=Provider.OTHER,
)


def _signal(**changes: object) -> Signal:
    """A signal of `_VERDICT`, as the pipeline makes one, with some fields changed."""
    verdict = {f.name: getattr(_VERDICT, f.name) for f in fields(Verdict)}
    base = Signal(recipient="user@example.org", kind=Kind.DSN, **verdict)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_values_are_equal_and_hash_alike_when_their_fields_are() -> None:
    """Two values built from the same fields are equal, hash alike and dedupe in a set."""
    one = Entry(recipient="user@example.org", status="5.1.1", reply_code=550)
    two = Entry(recipient="user@example.org", status="5.1.1", reply_code=550)
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two, replace(one, status="5.2.2")}) == 2
    assert _signal() == _signal()
    assert hash(_signal()) == hash(_signal())


def test_a_changed_field_makes_a_different_value() -> None:
    """`replace` gives a new value and leaves the original as it was."""
    entry = Entry(recipient="user@example.org", action=DsnAction.DELAYED)
    failed = replace(entry, action=DsnAction.FAILED)
    assert entry.action is DsnAction.DELAYED
    assert failed.action is DsnAction.FAILED
    assert entry != failed
    assert _signal(hard=False) != _signal()


def test_fields_are_keyword_only() -> None:
    """Values are built by naming their fields: a positional argument is refused."""
    with pytest.raises(TypeError):
        Entry("user@example.org")  # type: ignore[call-arg]


def test_values_have_no_instance_dict() -> None:
    """Slotted: no attribute beyond the declared fields can be added by mistake."""
    entry = Entry(recipient="user@example.org")
    with pytest.raises((AttributeError, TypeError, FrozenInstanceError)):
        entry.typo = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value",
    [
        Entry(recipient="user@example.org", hint=Reason.MAILBOXFULL),
        Feedback(feedback_type=FeedbackType.ABUSE, original_rcpt_to=("user@example.org",)),
        Report(
            kind=Kind.DSN,
            format="rfc3464",
            entries=(Entry(recipient="user@example.org"),),
            original=Headers(fields=(("message-id", "<1@example.org>"),)),
        ),
        _VERDICT,
        Attribution(client="c1", source=AttributionSource.HEADER),
        UNATTRIBUTED,
        _signal(),
    ],
)
def test_values_survive_pickling(value: object) -> None:
    """Parse workers hand values to the daemon pickled: they come back equal, field by field."""
    back = pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes, just made
    assert back == value
    assert [f.name for f in fields(back)] == [f.name for f in fields(value)]  # type: ignore[arg-type]
