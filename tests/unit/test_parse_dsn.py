"""RFC 3464 delivery status fields, as real reports write them."""

from __future__ import annotations

from bounced.model import DsnAction, Reason
from bounced.parse import dsn, notice


def _recipients(text: str) -> list[str | None]:
    return [group.recipient for group in dsn.parse_status(text).recipients]


def test_groups_without_blank_lines_are_split_at_each_recipient() -> None:
    """A second Final-Recipient starts a second group even with no blank line between."""
    text = (
        "Reporting-MTA: dns; mx.example.com\n"
        "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Final-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.2.2\n"
    )
    status = dsn.parse_status(text)
    assert [g.recipient for g in status.recipients] == ["a@example.com", "b@example.com"]
    assert [g.status for g in status.recipients] == ["5.1.1", "5.2.2"]
    assert status.message["reporting-mta"] == "dns; mx.example.com"


def test_original_recipient_after_action_starts_the_next_group() -> None:
    """Original-Recipient of the next recipient is not taken for the current one's."""
    text = (
        "Final-Recipient: rfc822; a@example.com\nAction: failed\n"
        "Original-Recipient: rfc822; b@example.com\nFinal-Recipient: rfc822; b@example.com\n"
        "Action: failed\n"
    )
    groups = dsn.parse_status(text).recipients
    assert [(g.final, g.original) for g in groups] == [
        ("rfc822; a@example.com", None),
        ("rfc822; b@example.com", "rfc822; b@example.com"),
    ]


def test_fields_in_any_order_make_one_group() -> None:
    """A group that opens with Action and names its recipient last is still one group."""
    text = (
        "Action : failed\nStatus : 5.0.0\nDiagnostic-Code : smtp;550 nope\n"
        "Original-Recipient : rfc/822;a@example.com\nFinal-Recipient : rfc/822;a@example.com\n"
    )
    groups = dsn.parse_status(text).recipients
    assert len(groups) == 1
    assert groups[0].recipient == "a@example.com"
    assert groups[0].diagnostic == "550 nope"


def test_orphan_fields_fold_into_the_next_group() -> None:
    """Action and Status separated from their recipient by a blank line still belong to it."""
    text = "Action: failed\nStatus: 5.0.0\n\nFinal-Recipient: rfc822; a@example.com\n"
    (group,) = dsn.parse_status(text).recipients
    assert (group.recipient, group.action, group.status) == ("a@example.com", "failed", "5.0.0")


def test_non_address_recipient_takes_a_stand_in() -> None:
    """A pipe or a bare host as Final-Recipient is replaced by a known failed address."""
    text = "Final-Recipient: rfc822; @mx.example.org\nAction: failed\nStatus: 5.1.2\n"
    ((_, entry),) = dsn.read_groups(dsn.parse_status(text), ["a@example.org"])
    assert entry.recipient == "a@example.org"
    assert _recipients("Final-Recipient: rfc822;|/usr/bin/prog\nAction: failed\n") == [None]


def test_expired_action_is_a_failure_with_its_reason() -> None:
    """ "Action: expired" means the MTA gave up: failed, and the reason is stated."""
    text = "Final-Recipient: rfc822; a@example.com\nAction: expired\nStatus: 4.4.7\n"
    ((_, entry),) = dsn.read_groups(dsn.parse_status(text))
    assert entry.action is DsnAction.FAILED
    assert entry.hint is Reason.EXPIRED


def test_find_inline_reads_fields_pasted_in_text() -> None:
    """DSN fields in a plain-text notice are found and cut off where the notice resumes."""
    text = (
        "The following addresses had permanent fatal errors\n\n"
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: RFC822; a@example.com\nAction: failed\nStatus: 5.5.0\n\n"
        "Return-Path: <news@example.org>\nFrom: news@example.org\n"
    )
    inline = dsn.find_inline(text)
    assert inline is not None
    assert _recipients(inline) == ["a@example.com"]
    assert "Return-Path" not in inline
    assert dsn.find_inline("no fields here\nStatus: fine\n") is None


def test_paragraph_and_transcript_of_a_recipient() -> None:
    """The notice's paragraph and transcript lines are found for one recipient."""
    text = (
        "<a@example.com>:\n"
        "host mx said: 550 nope (in reply to RCPT TO command)\n\n"
        ">>> DATA\n<<< 554 <b@example.com>... rejected\n"
    )
    assert "in reply to RCPT TO" in notice.paragraph(text, "a@example.com")
    assert notice.transcript_command(text, "b@example.com") == "DATA"
    assert notice.transcript_command(text, "c@example.com") is None


def test_whole_reply_from_the_transcript() -> None:
    """A reply quoted by its first line is completed from the transcript's lines, their
    repeated codes dropped; nothing is made up when the notice holds no more of it."""
    text = (
        "    (reason: 550-5.7.1 The domain publishes)\n"
        "... while talking to mx.example.org.:\n>>> DATA\n"
        "<<< 550-5.7.1 The domain publishes\n"
        "<<< 550-5.7.1 a DMARC policy of reject.\n"
        "<<< 550 5.7.1 abc - mx\n"
        "554 5.0.0 Service unavailable\n"
    )
    whole = "550 5.7.1 The domain publishes a DMARC policy of reject. abc - mx"
    assert notice.whole_reply(text, "550-5.7.1 The domain publishes") == whole
    assert notice.whole_reply(text, "550 5.7.1 The domain publishes") is None  # not cut
    assert notice.whole_reply(text, "550-5.7.1 Something else said") is None
    # A reply whose last line never comes is not completed.
    unfinished = "<<< 550-5.7.1 The domain publishes\n<<< 550-5.7.1 a DMARC policy\n"
    assert notice.whole_reply(unfinished, "550-5.7.1 The domain publishes") is None
    # The transcript's command that drew the refusal, for a notice about one recipient.
    assert notice.transcript_command(text, "a@example.com", alone=True) == "DATA"
    assert notice.transcript_command(text, "a@example.com") is None


def test_transcript_refused_on_connecting() -> None:
    """A transcript in which nothing was sent, only a refusal received once connected, was
    refused at the greeting; a reply after a command was not."""
    refused = (
        "... while talking to mx1.example.org.:\n<<< 554 IP=192.0.2.1 - go away\n"
        "... while talking to mx2.example.org.:\n<<< 554 IP=192.0.2.1 - go away\n"
        "554 5.0.0 Service unavailable\n"
    )
    assert notice.transcript_command(refused, "a@example.com") == "CONN"
    after_data = "... while talking to mx.example.org.:\n>>> DATA\n<<< 554 go away\n"
    assert notice.transcript_command(after_data, "a@example.com") is None
    greeted = "... while talking to mx.example.org.:\n<<< 220 mx.example.org ESMTP\n"
    assert notice.transcript_command(greeted, "a@example.com") is None


def test_postfix_own_words_state_the_reason() -> None:
    """Postfix's own local and DNS failures give a hint; a remote reply does not."""
    text = (
        "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
        'Diagnostic-Code: X-Postfix; unknown user: "a"\n\n'
        "Final-Recipient: rfc822; b@example.net\nAction: failed\nStatus: 5.4.4\n"
        "Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error for\n"
        "    name=example.net type=MX: Host not found\n\n"
        "Final-Recipient: rfc822; c@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 unknown user: c\n"
    )
    hints = [entry.hint for _, entry in dsn.read_groups(dsn.parse_status(text))]
    assert hints == [Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, None]


def test_lead_in_gives_the_reason_above_the_list() -> None:
    """The paragraph above a recipient list is its reason; generic sentences are skipped."""
    text = (
        "This is an automatically generated Delivery Status Notification.\n\n"
        "Unable to deliver message because the mailbox is full.\n\n"
        "Delivery to the following recipients failed permanently:\n\n"
        "    a@example.com\n"
    )
    assert notice.lead_in(text, "a@example.com").startswith("Unable to deliver message")
    assert (
        notice.lead_in(
            "Delivery to the following recipients failed:\n\na@example.com", "a@example.com"
        )
        == ""
    )


def test_status_comment_is_a_diagnostic_unless_it_names_the_code() -> None:
    """A Status comment stands in for a missing Diagnostic-Code, unless it restates the code."""
    text = "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.4.4 (bad domain)\n"
    ((_, entry),) = dsn.read_groups(dsn.parse_status(text))
    assert entry.diagnostic == "bad domain"
    text = text.replace("(bad domain)", "(permanent failure)")
    ((_, entry),) = dsn.read_groups(dsn.parse_status(text))
    assert entry.diagnostic == ""


def test_status_field_gives_way_to_the_code_of_the_reply() -> None:
    """A generic or disagreeing Status yields to the specific code the remote reply carries."""
    text = (
        "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 5.7.1 Message rejected as spam\n\n"
        "Final-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 552 5.2.2 Over quota\n\n"
        "Final-Recipient: rfc822; c@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.0.0 No such user\n\n"
        "Final-Recipient: rfc822; d@example.com\nAction: failed\nStatus: 5.2.1\n"
        "Diagnostic-Code: smtp; 550 Mailbox disabled\n"
    )
    statuses = [entry.status for _, entry in dsn.read_groups(dsn.parse_status(text))]
    assert statuses == ["5.7.1", "5.2.2", "5.1.1", "5.2.1"]
