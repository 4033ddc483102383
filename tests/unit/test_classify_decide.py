"""The generic decision, one step at a time (classify/decide.py)."""

from __future__ import annotations

import pytest

from bounced.classify import decide
from bounced.model import Reason

R = Reason


def facts(text: str, **kwargs: object) -> decide.Facts:
    return decide.Facts(text=text.lower(), **kwargs)  # type: ignore[arg-type]


def test_a_success_code_is_a_delivery() -> None:
    """A 2.x.x status means the recipient got the message."""
    assert decide.generic(facts("250 2.0.0 ok", status="2.0.0")) is R.DELIVERED


def test_probe_order_puts_a_full_mailbox_before_an_unknown_user() -> None:
    """When both phrases appear, the earlier reason of the probe order wins."""
    text = "550 5.1.1 user unknown: mailbox full"
    assert decide.generic(facts(text, status="5.1.1", command="RCPT")) is R.MAILBOXFULL


def test_a_5_1_1_code_is_an_unknown_user() -> None:
    """5.1.1 with no contrary wording is an unknown user, whatever the command."""
    assert decide.generic(facts("550 5.1.1 no such account", status="5.1.1")) is R.USERUNKNOWN


def test_a_5_1_1_code_with_relay_wording_is_not_an_unknown_user() -> None:
    """5.1.1 that says relaying was denied is about relaying."""
    text = "550 5.1.1 relay access denied"
    assert decide.generic(facts(text, status="5.1.1", command="RCPT")) is R.NORELAYING


@pytest.mark.parametrize(
    ("command", "reason"),
    [("RCPT", R.USERUNKNOWN), (None, R.FILTERED), ("DATA", R.FILTERED), ("MAIL", R.ONHOLD)],
)
def test_unknown_user_wording_depends_on_the_command(command: str | None, reason: Reason) -> None:
    """Under a generic code, "user unknown" is the address at RCPT and a filter after DATA."""
    text = "550 user unknown"
    assert decide.generic(facts(text, status="5.0.0", reply=550, command=command)) is reason


def test_sender_rejection_at_mail_from() -> None:
    """A refusal of MAIL FROM with sender wording is a rejected sender."""
    text = "553 5.7.1 sender rejected"
    assert decide.generic(facts(text, status="5.7.1", command="MAIL")) is R.REJECTED


def test_access_denied_counts_as_rejected_only_at_mail_from() -> None:
    """ "Access denied" names a rejected sender only when it answered MAIL FROM."""
    text = "550 5.7.1 access denied"
    assert decide.generic(facts(text, status="5.7.1", command="MAIL")) is R.REJECTED
    assert decide.generic(facts(text, status="5.7.1", command="RCPT")) is R.SECURITYERROR


def test_status_code_reason_when_no_phrase_decides() -> None:
    """With no phrase, a specific code's own reason stands."""
    assert decide.generic(facts("552 5.3.4 nope", status="5.3.4")) is R.MESGTOOBIG


@pytest.mark.parametrize(
    ("status", "reason"), [("5.6.4", R.CONTENTERROR), ("4.7.99", R.SECURITYERROR)]
)
def test_status_subject_decides_for_unknown_codes(status: str, reason: Reason) -> None:
    """An unlisted code in the x.6 or x.7 subject is a content or security error."""
    assert decide.generic(facts("550 refused", status=status)) is reason


def test_reply_code_with_one_meaning() -> None:
    """A 451 with no code that decides is a local error of the remote system."""
    text = "451 4.3.0 could not be delivered, try again later"
    assert decide.generic(facts(text, status="4.3.0", reply=451)) is R.SYSTEMERROR


def test_local_program_failure_is_a_mailer_error() -> None:
    """An x-unix diagnostic that no table knows is the local delivery program's failure."""
    result = decide.generic(facts("255", status="5.3.0", smtp=False, unix=True))
    assert result is R.SYSTEMERROR  # 5.3.0 names a system error before the x-unix fallback
    assert decide.generic(facts("255", smtp=False, unix=True)) is R.MAILERERROR


def test_delayed_without_reason_is_expired() -> None:
    """A delayed recipient whose reply names nothing has expired."""
    assert decide.generic(facts("", delayed=True)) is R.EXPIRED


def test_refused_greeting_is_blocked() -> None:
    """A refusal on connecting or at HELO/EHLO with nothing more is a block of the sending
    host; the same words after DATA are not."""
    reply = "554 a problem occurred"
    for command in ("CONN", "EHLO", "HELO"):
        assert decide.generic(facts(reply, reply=554, command=command)) is R.BLOCKED
    assert decide.generic(facts(reply, reply=554, command="DATA")) is not R.BLOCKED


def test_a_stated_reason_is_kept_at_its_place_in_the_order() -> None:
    """A reason the report states (but only as a guess) wins unless an earlier one matches."""
    assert decide.generic(facts("550 oops", stated=R.USERUNKNOWN)) is R.USERUNKNOWN
    text = "552 mailbox full"
    assert decide.generic(facts(text, stated=R.USERUNKNOWN)) is R.MAILBOXFULL


def test_last_resorts() -> None:
    """Vacation wording, then onhold for any text, then undefined for none."""
    assert decide.generic(facts("i am out of the office until monday")) is R.VACATION
    assert decide.generic(facts("something odd happened")) is R.ONHOLD
    assert decide.generic(facts("")) is R.UNDEFINED


def test_retry_reasons_are_first_guesses_only() -> None:
    """Weak guesses may be replaced; a full mailbox or a block may not."""
    assert R.USERUNKNOWN in decide.RETRY
    assert R.ONHOLD in decide.RETRY
    assert R.MAILBOXFULL not in decide.RETRY
    assert R.BLOCKED not in decide.RETRY


def _every_probe(sample: decide.Facts) -> Reason | None:
    coded = sample.coded
    return next((r for r in decide.PROBE_ORDER if decide._probe(r, sample, coded)), None)


@pytest.mark.parametrize(
    ("text", "status", "command", "reply"),
    [
        ("550 5.1.1 user unknown", "5.1.1", "RCPT", 550),
        ("550 user unknown", None, "DATA", 550),
        ("525 account disabled by administrator", None, None, 525),
        ("550 5.7.1 access denied", "5.7.1", "MAIL", 550),
        ("550 recipient address rejected", None, "RCPT", 550),
        ("552 5.2.2 mailbox full", "5.2.2", "RCPT", 552),
        ("554 5.7.1 message rejected as spam", "5.7.1", "DATA", 554),
        ("550 5.2.1 mailbox disabled", "5.2.1", None, 550),
        ("550 no reason given", "5.0.0", "RCPT", 550),
    ],
)
def test_skipping_impossible_probes_changes_nothing(
    text: str, status: str | None, command: str | None, reply: int | None
) -> None:
    """Probing only the reasons that can hold finds what probing every reason finds."""
    kwargs = {"status": status, "command": command, "reply": reply}
    expected = _every_probe(facts(text, **kwargs))
    found = decide.generic(facts(text, **kwargs))
    assert expected is None or found is expected


@pytest.mark.parametrize(
    ("text", "status", "reply", "reason"),
    [
        # Spam refusals under a 5.7.1 code are spam, not a security setup error.
        ("550 5.7.1 message refused: rejected by spam filter", "5.7.1", 550, Reason.SPAMDETECTED),
        ("554 5.7.1 your mail is considered as spam here", "5.7.1", 554, Reason.SPAMDETECTED),
        ("554 5.7.1 rejected under suspicion of spam", "5.7.1", 554, Reason.SPAMDETECTED),
        ("554 5.7.1 spam message rejected; write to abuse", "5.7.1", 554, Reason.SPAMDETECTED),
        # A recipient receiving too much is a rate limit, not a block.
        ("450 4.2.1 this user has exceeded message rate limit", "4.2.1", 450, Reason.SPEEDING),
        ("450 user is receiving mail too quickly", None, 450, Reason.SPEEDING),
        ("452 4.1.1 <a@example.net> too many recent messages", "4.1.1", 452, Reason.SPEEDING),
        # A disabled mailbox is suspended; a loop is the network's.
        (
            "550 local mailbox a@example.ru is unavailable: account is disabled",
            None,
            550,
            Reason.SUSPEND,
        ),
        ("551 5.7.1 loop detected: forwarded back to itself", "5.7.1", 551, Reason.NETWORKERROR),
        ("550 5.2.1 this mailbox has been blocked due to inactivity", "5.2.1", 550, Reason.SUSPEND),
        ("540 5.7.1 <a@x.ru>: recipient address rejected: inactive", "5.7.1", 540, Reason.SUSPEND),
        # Authentication and block lists in the words of smaller receivers.
        ("550 <a@example.de>: reject due to spf policy", None, 550, Reason.AUTHFAILURE),
        ("550-spf-check failed: 550 example.com does not allow you", None, 550, Reason.AUTHFAILURE),
        ("550 <a@example.de>: ip address is block listed", None, 550, Reason.BLOCKED),
        # A full mailbox in other words; a recipient who takes mail from some senders only.
        ("550 the recipient does not have enough space", None, 550, Reason.MAILBOXFULL),
        (
            "550 mail file size exceeds the maximum size allowed for mail delivery",
            None,
            550,
            Reason.MAILBOXFULL,
        ),
        (
            "550 5.7.1 resolver.rst.notauthorized; not authorized to send to this recipient",
            "5.7.1",
            550,
            Reason.FILTERED,
        ),
        (
            (
                "550 due to extended inactivity new mail is not currently being accepted for "
                "this mailbox"
            ),
            None,
            550,
            Reason.FILTERED,
        ),
    ],
)
def test_provider_wordings(text: str, status: str | None, reply: int, reason: Reason) -> None:
    """Wordings of large receivers' replies land on the reason they mean."""
    assert decide.generic(facts(text, status=status, reply=reply)) is reason
