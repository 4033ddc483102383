"""What the readers extract per recipient, beyond the address: the fields classification needs.

The golden files check recipients and codes through the whole pipeline; these tests look at
the parser's own output for a few fixtures: the diagnostic text without boilerplate, the remote
host, the action, the hint, and the engine that cuts a notice into per-recipient segments.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bounced.model import DsnAction, Entry, Kind, Reason
from bounced.parse import is_delay_warning, notice, parse
from bounced.parse.entry import make_entry

DATA = Path(__file__).resolve().parent.parent / "data"


def _entries(name: str) -> list[Entry]:
    return list(parse((DATA / name).read_bytes()).entries)


def test_postfix_dsn_takes_command_from_notice() -> None:
    """Diagnostic-Code gives the reply; the notice's "(in reply to RCPT TO command)" the stage."""
    (entry,) = _entries("dsn/postfix-user-unknown.eml")
    assert entry.command == "RCPT"
    assert entry.remote_mta == "mx.recipient.example"
    assert entry.diagnostic.startswith("550 5.1.1 <alice@recipient.example>: Recipient address")
    assert "\n" not in entry.diagnostic
    assert "  " not in entry.diagnostic


def test_exim_diagnostic_is_the_remote_reply() -> None:
    """Exim's per-recipient lines become the diagnostic, with the host that answered."""
    kate, leo = _entries("unix/exim-two-recipients.eml")
    assert kate.remote_mta == "mx.recipient.example"
    assert "User unknown" in kate.diagnostic
    assert "Mailbox full" in leo.diagnostic
    assert "User unknown" not in leo.diagnostic


def test_gmail_diagnostic_drops_google_boilerplate() -> None:
    """Only the remote server's words are kept after Google's explanation."""
    (entry,) = _entries("google/gmail-old-notice.eml")
    assert entry.diagnostic.startswith("550 5.1.1")
    assert "Google tried" not in entry.diagnostic
    assert entry.remote_mta == "mx.recipient.example"


def test_delayed_action_and_separator_lines() -> None:
    """A DSN's delayed action is kept; separator rules never reach a diagnostic."""
    (entry,) = _entries("dsn/delayed.eml")
    assert entry.action is DsnAction.DELAYED
    (x3,) = _entries("appliances/x3-technical-details.eml")
    assert "====" not in x3.diagnostic


def test_hints_only_where_the_format_states_the_reason() -> None:
    """Hints come from the MTA's own sentence; a remote reply alone gives none."""
    assert [e.hint for e in _entries("unix/exim-retry-timeout.eml")] == [Reason.EXPIRED]
    assert [e.hint for e in _entries("unix/exim-two-recipients.eml")] == [None, None]
    assert [e.hint for e in _entries("lists/fml-not-member.eml")] == [Reason.REJECTED]


def test_negatives_name_nobody() -> None:
    """Delivered reports and vacation notices carry no recipient to act on."""
    assert parse((DATA / "autoreply/vacation-is-not-a-bounce.eml").read_bytes()).kind is (
        Kind.AUTO_REPLY
    )
    report = parse((DATA / "dsn/delivered-only.eml").read_bytes())
    assert report.kind is Kind.DELIVERED
    assert all(e.action is DsnAction.DELIVERED for e in report.entries)


def test_segments_join_repeated_mentions() -> None:
    """A recipient named again in its own transcript keeps one segment with all its lines."""
    anchor = re.compile(r"^<(?P<addr>[\w.@-]+)>:", re.MULTILINE)
    text = "<a@example.com>:\nRCPT TO:<a@example.com>\n550 nope\n<b@example.com>:\n552 full\n"
    a, b = notice.segments(text, anchor)
    assert (a.address, b.address) == ("a@example.com", "b@example.com")
    assert "550 nope" in a.text
    assert "552 full" not in a.text
    assert "552 full" in b.text


def test_segments_of_a_list_share_what_follows_it() -> None:
    """Recipients listed one under another share the reason below the list; where the lines
    below name them one by one, each gets its own line; a closing transcript that names nobody
    is everybody's."""
    anchor = re.compile(r"^ *(?P<addr>[\w.-]+@[\w.-]+)$", re.MULTILINE)
    text = "a@example.com\nb@example.com\n\nFor the following reason:\nMailbox full\n"
    a, b = notice.segments(text, anchor)
    assert "Mailbox full" in a.text
    assert "Mailbox full" in b.text
    text = (
        "a@example.com\nb@example.com\n\nServer said:\n"
        "553 <a@example.com>... No such user\n552 <b@example.com>... Mailbox full\n"
    )
    a, b = notice.segments(text, anchor)
    assert "No such user" in a.text
    assert "Mailbox full" not in a.text
    assert "Mailbox full" in b.text
    assert "No such user" not in b.text
    assert "Server said:" in a.text
    assert "Server said:" in b.text
    sendmail = re.compile(r"\(expanded from: <(?P<addr>[\w.-]+@[\w.-]+)>\)")
    text = (
        '"|/bin/x"\n    (reason: 255)\n    (expanded from: <a@example.com>)\n'
        '"|/bin/x"\n    (reason: 255)\n    (expanded from: <b@example.com>)\n\n'
        "   ----- Transcript of session follows -----\n554 5.3.0 unknown mailer error 255\n"
    )
    a, b = notice.segments(text, sendmail)
    assert "554 5.3.0" in a.text
    assert "554 5.3.0" in b.text


def test_a_reply_folded_after_its_codes_keeps_them() -> None:
    """ "550 5.1.1" then, indented on the next line, the address and the rest of the reply: the
    codes belong to that recipient's text, whether or not the anchor keeps its line's start."""
    text = "Session:\n<-- 550 5.1.1\n    <cleo@example.com>: Recipient address rejected\n"
    line_anchor = re.compile(r"^[ \t]{0,12}<(?P<addr>[\w.-]+@[\w.-]+)>", re.MULTILINE)
    (cleo,) = notice.segments(text, line_anchor)
    assert cleo.text.startswith("<-- 550 5.1.1")
    assert "Recipient address rejected" in cleo.text
    (cleo,) = notice.segments(text, line_anchor, keep_prefix=True)
    assert "550 5.1.1" in cleo.text
    listed = "Failed:\n    <ann@example.com>: no such user\n"
    (ann,) = notice.segments(listed, line_anchor)
    assert ann.text == "no such user\n"


def test_a_reply_before_the_address_on_its_line_keeps_its_codes() -> None:
    """ "Returned: 550 5.1.1 <addr>... User unknown": the reply starts before the address, on
    the same line; its codes belong to that recipient's text, the words before them do not."""
    text = (
        "Recipient: [SMTP:dora@example.com]\n"
        "Reason: Remote SMTP Server Returned: 550 5.1.1 <dora@example.com>... User unknown\n"
    )
    mid_line = re.compile(r"<(?P<addr>[\w.-]+@[\w.-]+)>")
    (dora,) = notice.segments(text, mid_line)
    assert dora.text == "550 5.1.1 User unknown\n"
    plain = "Reason: no such user <eve@example.com> here\n"  # no reply code before it
    (eve,) = notice.segments(plain, mid_line)
    assert eve.text == "here\n"
    accepted = "<<< 250 2.1.5 <finn@example.com>... Recipient ok\n<<< 554 5.7.1 Rejected\n"
    (finn,) = notice.segments(accepted, mid_line)  # an acceptance is not the reply that failed
    assert not finn.text.startswith("250")
    assert "554 5.7.1 Rejected" in finn.text


def test_remote_host_wordings() -> None:
    """The remote host is read from the wording of each MTA."""
    assert notice.remote_host("host mx.example.com [192.0.2.1]: 550") == "mx.example.com"
    assert notice.remote_host("Giving up on 192.0.2.20.") == "192.0.2.20"
    assert notice.remote_host("... while talking to mx.example.org.:") == "mx.example.org"
    assert notice.remote_host("nothing to see") is None


def test_remote_host_first_wording_wins() -> None:
    """The wording found first in the text names the host; a word that ends in one of the
    wordings ("ghost") is not it."""
    text = "Connected to 192.0.2.7 but\nmx.example.net [192.0.2.8] did not like our RCPT"
    assert notice.remote_host(text) == "192.0.2.7"
    text = "mx.example.net [192.0.2.8] did not like our RCPT\nConnected to 192.0.2.7"
    assert notice.remote_host(text) == "mx.example.net"
    assert notice.remote_host("ghost a.example.com [192.0.2.1] host b.example.com said:") == (
        "b.example.com"
    )
    assert notice.remote_host("Remote host: c.example.com; lost connection with d.example[") == (
        "c.example.com"
    )


def test_dashed_rule_above_headers_ends_the_notice() -> None:
    """A rule in any language right above header fields starts the returned message."""
    (entry,) = _entries("heuristic/german-notice-dashed-original.eml")
    assert entry.diagnostic.startswith("Die Mailbox des Empfängers ist voll.")
    assert "Kopfzeilen" not in entry.diagnostic


def test_diagnostic_from_notice_when_dsn_has_none() -> None:
    """A DSN without Diagnostic-Code takes the notice's words, without the address's quote."""
    (entry,) = _entries("dsn/status-zero-reply-in-notice.eml")
    assert entry.diagnostic.startswith("SMTP module(domain recipient.example) reports")
    assert entry.remote_mta == "mx.recipient.example"


def test_thin_diagnostic_is_completed_from_the_notice() -> None:
    """A Diagnostic-Code without words ("X-Unix; 75") gives way to the notice's transcript."""
    (entry,) = _entries("dsn/thin-diagnostic-notice-says-more.eml")
    assert "554 5.3.0 unknown mailer error 75" in entry.diagnostic
    assert "Transcript of session" not in entry.diagnostic
    assert entry.status == "5.0.0"  # as reported; classification weighs the text's code


def test_reason_above_the_address_and_mbox_original() -> None:
    """A reason on the line above the address is its diagnostic; an mbox line ends the notice."""
    (entry,) = _entries("heuristic/reason-above-address-mbox-original.eml")
    assert entry.diagnostic.startswith("reject reason: Mailbox full target mail address:")
    assert "Date:" not in entry.diagnostic


def test_template_paragraphs_are_not_diagnostics() -> None:
    """The paragraphs of an MTA's notice template are dropped; what is particular stays."""
    text = (
        "This is the mail system at host mx.sender.example.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "For further assistance, please send mail to postmaster.\n\n"
        "                   The mail system\n\n"
        "<a@recipient.example>: mailbox is on hold\n"
    )
    assert notice.essential(text) == "<a@recipient.example>: mailbox is on hold\n"


def test_expired_status_takes_the_code_of_the_failed_attempts() -> None:
    """A DSN that only says 4.4.7 (given up) gets the code of the attempts the notice quotes."""
    (entry,) = _entries("microsoft/exchange-expired-after-attempts.eml")
    assert entry.status == "4.4.1"
    assert entry.diagnostic == "550 4.4.7 QUEUE.Expired; message expired"


def test_unfold_and_reflow() -> None:
    """`unfold` joins indented continuation lines only; `reflow` puts each paragraph on one
    line and keeps the paragraphs apart."""
    text = "a@example.com Invalid Address,\n    ERROR_CODE :550\nnext line\n\n\tstill next"
    assert (
        notice.unfold(text)
        == "a@example.com Invalid Address, ERROR_CODE :550\nnext line\n\n\tstill next"
    )
    prose = "This address is no\nlonger in use.\n  \nPlease write to\n  b@example.com instead."
    assert notice.reflow(prose) == (
        "This address is no longer in use.\n\nPlease write to b@example.com instead."
    )


def test_hints_are_found_across_line_ends() -> None:
    """A hint phrase that a fold cut in two is still found; a hint is never made up."""
    hints = ((re.compile(r"Please check if address is correct"), Reason.USERUNKNOWN),)
    assert notice.hint_of("Please check if\n    address is correct.", hints) is Reason.USERUNKNOWN
    assert notice.hint_of("Please check\n\nthe logs", hints) is None


def test_codes_are_read_from_the_refusal_after_accepting_replies() -> None:
    """A transcript's accepting replies give way to the refusal's reply code and status."""
    entry = make_entry("a@example.org", "250 2.1.0 Ok 250 2.1.5 Ok 552 5.2.2 Mailbox full")
    assert (entry.reply_code, entry.status) == (552, "5.2.2")
    entry = make_entry("a@example.org", "250 2.0.0 Ok: queued as 1234")
    assert (entry.reply_code, entry.status) == (250, "2.0.0")
    entry = make_entry("a@example.org", "Mailbox full", status="5.2.2")
    assert (entry.reply_code, entry.status) == (None, "5.2.2")


@pytest.mark.parametrize(
    ("subject", "delayed"),
    [
        ("Warning: could not send message for past 4 hours", True),
        ("WARNING: message 1abc-000 delayed 24 hours", True),
        ("Re: warning about your account", False),
        ("Delayed Mail (still being retried)", True),
        ("Delivery Status Notification (Delay)", True),
        ("Your message HAS NOT YET BEEN DELIVERED", True),
        ("Delivery Status Notification (Failure)", False),
    ],
)
def test_delay_subjects(subject: str, delayed: bool) -> None:
    """Delay warnings are known by their subject's wording, in any case; "warning" only first."""
    assert is_delay_warning(subject) is delayed
