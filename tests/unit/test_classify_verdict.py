"""classify(): one entry of a report to a verdict, through every step of the pipeline."""

from __future__ import annotations

from typing import Any

from bounced.classify import classify, find_command, normalise, verdicts
from bounced.model import (
    Action,
    Category,
    DsnAction,
    Entry,
    FeedbackType,
    Kind,
    Provider,
    Reason,
    Report,
)

R = Reason
DSN = Report(kind=Kind.DSN, format="rfc3464")


def entry(diagnostic: str, **kwargs: Any) -> Entry:
    return Entry(
        recipient=str(kwargs.pop("recipient", "kijitora@example.jp")),
        diagnostic=diagnostic,
        diagnostic_type="smtp",
        **kwargs,
    )


def test_feedback_is_a_complaint() -> None:
    """A feedback report is a complaint, whatever else it says."""
    report = Report(kind=Kind.FEEDBACK, format="arf")
    verdict = classify(Entry(recipient="a@yahoo.com", feedback_type=FeedbackType.ABUSE), report)
    assert (verdict.reason, verdict.category, verdict.action) == (
        R.FEEDBACK,
        Category.COMPLAINT,
        Action.SUPPRESS_CLIENT,
    )
    assert verdict.status is None
    assert verdict.provider is Provider.YAHOO


def test_stated_reason_is_final() -> None:
    """A reason the format states outright wins over the reply text."""
    verdict = classify(entry("550 5.1.1 user unknown", hint=R.MAILBOXFULL), DSN)
    assert verdict.reason is R.MAILBOXFULL


def test_unknown_user_with_a_generic_status_field() -> None:
    """The specific code of the reply beats the Status field's 5.0.0; the address is suppressed."""
    verdict = classify(
        entry("550 5.1.1 <kijitora@example.jp>... User Unknown", status="5.0.0", reply_code=550),
        DSN,
    )
    assert (verdict.reason, verdict.status, verdict.hard) == (R.USERUNKNOWN, "5.1.1", True)
    assert (verdict.category, verdict.action) == (Category.HARD, Action.SUPPRESS)


def test_a_failure_whose_status_says_success() -> None:
    """A failed recipient whose Status field says 2.0.0 beside a 550 reply is read from the
    reply; a passing status without a failing reply is left alone."""
    broken = entry("550 virus detected", status="2.0.0", action=DsnAction.FAILED)
    verdict = classify(broken, DSN)
    assert (verdict.reason, verdict.status) == (R.VIRUSDETECTED, "5.9.165")
    coded = entry("550 5.7.1 virus detected", status="2.0.0", action=DsnAction.FAILED)
    assert classify(coded, DSN).status == "5.7.1"
    delivered = entry("250 2.0.0 OK", status="2.0.0", action=DsnAction.DELIVERED)
    assert classify(delivered, DSN).reason is R.DELIVERED


def test_no_code_anywhere_gives_the_internal_code() -> None:
    """Without any status code, the reason's internal code is given, its class from the reply."""
    permanent = classify(entry("550 <kijitora@example.jp>: user unknown", command="RCPT"), DSN)
    assert (permanent.reason, permanent.status) == (R.USERUNKNOWN, "5.9.213")
    temporary = classify(entry("421 mailbox full, try again later"), DSN)
    assert (temporary.reason, temporary.status) == (R.MAILBOXFULL, "4.9.220")


def test_temporary_wording_without_codes_gives_a_temporary_internal_code() -> None:
    """Without any code, words saying the failure is temporary make the internal code 4.x."""
    verdict = classify(entry("mailbox full: temporary failure, will retry"), DSN)
    assert (verdict.reason, verdict.status) == (R.MAILBOXFULL, "4.9.220")
    verdict = classify(entry("mailbox full"), DSN)
    assert (verdict.reason, verdict.status) == (R.MAILBOXFULL, "5.9.220")


def test_multi_line_gmail_reply_and_remote_host() -> None:
    """A multi-line reply is joined before matching, and Google's documented reply decides."""
    text = (
        "550-5.7.1 [192.0.2.1] Our system has detected that this message is "
        "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail, "
        "550 5.7.1 this message has been blocked."
    )
    verdict = classify(
        entry(
            text,
            status="5.7.1",
            reply_code=550,
            remote_mta="gmail-smtp-in.l.google.com",
            recipient="neko@gmail.com",
        ),
        DSN,
    )
    assert verdict.reason is R.SPAMDETECTED
    assert verdict.category is Category.BLOCK
    assert verdict.provider is Provider.GMAIL


def test_yahoo_rate_limit_is_a_rate_whatever_its_reason() -> None:
    """TSS04 is rejected (via Yahoo's MX) or badreputation (elsewhere); both throttle."""
    text = (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
        "volume or user complaints - 4.16.55.1"
    )
    via_yahoo = classify(
        entry(
            text,
            remote_mta="mta6.am0.yahoodns.net",
            recipient="a@yahoo.com",
            action=DsnAction.DELAYED,
        ),
        DSN,
    )
    elsewhere = classify(entry(text, recipient="a@yahoo.com"), DSN)
    assert (via_yahoo.reason, elsewhere.reason) == (R.REJECTED, R.BADREPUTATION)
    assert via_yahoo.category is elsewhere.category is Category.RATE
    assert via_yahoo.action is Action.THROTTLE
    assert not via_yahoo.hard


def test_temporary_null_mx_refusal_is_soft() -> None:
    """A 4xx "system not accepting network messages" is not a hard bounce and not suppressed."""
    verdict = classify(
        entry(
            "451 4.3.2 Temporary server error. Please try again later",
            status="4.3.2",
            reply_code=451,
        ),
        DSN,
    )
    assert verdict.reason is R.NOTACCEPT
    assert (verdict.hard, verdict.category) == (False, Category.SOFT)


def test_provider_roll_up_prefers_the_remote_host() -> None:
    """A company domain hosted by Microsoft is Microsoft's for throttling."""
    verdict = classify(
        entry(
            "550 5.7.606 Access denied, banned sending IP [192.0.2.1]",
            remote_mta="example-com.mail.protection.outlook.com",
            recipient="a@example.com",
        ),
        DSN,
    )
    assert verdict.provider is Provider.MICROSOFT
    assert (verdict.reason, verdict.category) == (R.BLOCKED, Category.BLOCK)


def test_verdicts_skips_what_is_not_a_failure() -> None:
    """Delivered and relayed recipients and non-bounces yield no verdict."""
    report = Report(
        kind=Kind.DSN,
        format="rfc3464",
        entries=(
            Entry(recipient="a@example.jp", action=DsnAction.DELIVERED, status="2.0.0"),
            entry("550 5.1.1 user unknown", recipient="b@example.jp"),
        ),
    )
    assert [e.recipient for e, _ in verdicts(report)] == ["b@example.jp"]
    assert verdicts(Report(kind=Kind.NOT_BOUNCE, format="none", entries=report.entries)) == []


def test_normalise_joins_multi_line_replies() -> None:
    """Repeated "550-5.7.1" prefixes go; one "550 5.7.1" leads the text."""
    assert normalise("550-5.7.1 first line 550-5.7.1 second 550 5.7.1 last") == (
        "550 5.7.1 first line second last"
    )
    assert normalise("550 5.1.1 single line") == "550 5.1.1 single line"
    assert normalise("550-5.7.1 a\n\t550-5.7.1  b\r\n550 5.7.1 c") == "550 5.7.1 a b c"
    assert normalise(" a  b\u00a0c ") == "a b c"  # any whitespace, as \s matches it
    # Digits glued to a dot or a digit before the hyphen are a version, not a reply code.
    assert normalise("build 1.250-rc1 and 3550-x") == "build 1.250-rc1 and 3550-x"


def test_find_command() -> None:
    """The command a reply names; the later step wins; words inside addresses do not count."""
    assert find_command("... (in reply to RCPT TO command)") == "RCPT"
    assert find_command("after MAIL FROM:<a@b> ... then RCPT TO:<c@d>") == "RCPT"
    assert find_command("DATABASE@EXAMPLE.JP rejected") is None
    assert find_command("no command here") is None


def test_an_unknown_user_after_data_is_filtered_and_counted_as_soft() -> None:
    """The reference parser calls a user-unknown reply to DATA (or with no command to say when
    it came) filtered. It is about the address (which may not exist, or may have a reception
    filter that refuses this sender), not the sender's reputation: a soft bounce, counted,
    which repeats turn into a suppression."""
    after_data = classify(entry("550 Unknown user kijitora@example.jp", command="DATA"), DSN)
    assert (after_data.reason, after_data.hard) == (R.FILTERED, False)
    assert (after_data.category, after_data.action) == (Category.SOFT, Action.COUNT)
    no_command = classify(entry("550 5.2.1 <kijitora@example.jp>... Addressee unknown"), DSN)
    assert (no_command.reason, no_command.category) == (R.FILTERED, Category.SOFT)


def test_a_filtered_reply_that_says_more_than_unknown_user_stays_the_senders() -> None:
    """Only a reply whose sole phrases are about an unknown user moves: a recipient's filter,
    or a provider's policy rule, remains a block."""
    filtered = classify(entry("550 5.2.0 Message rejected by the recipient's filter"), DSN)
    assert (filtered.reason, filtered.category) == (R.FILTERED, Category.BLOCK)
    policy = classify(
        entry(
            "550 Requested action not taken: mailbox unavailable Reject due to policy "
            "restrictions.",
            recipient="kijitora@gmx.de",
            status="5.2.0",
        ),
        DSN,
    )
    assert (policy.reason, policy.category) == (R.FILTERED, Category.BLOCK)
