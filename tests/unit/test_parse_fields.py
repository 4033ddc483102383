"""The small readers every format shares: addresses, status and reply codes, SMTP commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounced.parse import fields as F


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rfc822; alice@example.com", "alice@example.com"),
        ("RFC822; <alice@example.com>", "alice@example.com"),
        ("rfc/822;alice@example.com", "alice@example.com"),
        ("@relay.example,@other.example:alice@host", "alice@host"),
        ('"Alice" <alice@example.com>', "alice@example.com"),
        ("alice@example.com (Alice)", "alice@example.com"),
        ("mailto:alice@example.com", "alice@example.com"),
    ],
)
def test_clean_address(value: str, expected: str) -> None:
    """Types, brackets, comments, mailto: and source routes are stripped off an address."""
    assert F.clean_address(value) == expected


def test_address_never_starts_inside_a_word() -> None:
    """The address regex does not pick the tail of a longer token ("kijitora@" is not "ra@")."""
    assert F.find_addresses("mail to:kijitora@example.org, (ra@example.net)") == [
        "kijitora@example.org",
        "ra@example.net",
    ]
    assert F.find_address("x.kijitora@example.org") == "x.kijitora@example.org"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 5.1.1 <a@example.com>... User unknown", "5.1.1"),
        ("550 5.0.0 then the real reason 5.2.2 mailbox full", "5.2.2"),
        ("host 192.0.2.1 said 550", None),
        ("Server version v2.1.3 is old", None),
        ("4.4.7 QUEUE.Expired", "4.4.7"),
        ("550 5.7.606 Access denied", "5.7.606"),
    ],
)
def test_find_status(text: str, expected: str | None) -> None:
    """The first specific enhanced code wins; IP addresses and versions are not codes."""
    assert F.find_status(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host mx[192.0.2.1] said: 550 5.1.1 nope (in reply to RCPT TO\n    command)", "RCPT"),
        ("said: 550 5.7.26 blocked (in reply to end\n    of DATA command)", "DATA"),
        ("SMTP error from remote mail server after MAIL FROM:<a@example.com> SIZE=1:", "MAIL"),
        ("SMTP error from remote mail server after initial connection:", "CONN"),
        ("mx.example.com [192.0.2.1] did not like our final DATA:", "DATA"),
        ("192.0.2.1 does not like recipient.", "RCPT"),
        ("Connected to 192.0.2.1 but my name was rejected.", "EHLO"),
        ("... while talking to mx.example.com.:\n>>> DATA\n<<< 550 5.1.1 nope", "DATA"),
        ("550-5.7.26 The MAIL FROM domain [example.com] has an SPF record", None),
        ("SMTP error from remote server after RCPT command:", "RCPT"),
        ("lost connection with mx[192.0.2.1] while performing the HELO handshake", "HELO"),
        ("connect to mx.example.com[192.0.2.1]:25: Connection refused", "CONN"),
        ("host mx.example.com[192.0.2.1] refused to talk to me: 421 busy", "CONN"),
        ("lost connection with mx[192.0.2.1] while sending RCPT TO", "RCPT"),
        ("lost connection with mx[192.0.2.1] while sending message body", "DATA"),
        # The earliest wording wins; positions count characters, not UTF-8 bytes.
        ("Empfänger abgelehnt (in reply to RCPT TO command) while sending DATA", "RCPT"),
        ("Zustellung für 東京 fehlgeschlagen: server after MAIL FROM:<a@example.com>", "MAIL"),
    ],
)
def test_find_command(text: str, expected: str | None) -> None:
    """The command comes from each MTA's own wording, never from prose in the reply."""
    assert F.find_command(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dns; mx.example.com", "mx.example.com"),
        ("mx.example.com [192.0.2.1]", "mx.example.com"),
        ("example-com.mail.example.net:25", "example-com.mail.example.net"),
        ("dns;MX.EXAMPLE.COM.", "mx.example.com"),
        ("", None),
        ("dns; []", None),  # brackets around nothing
        ("dns; ( )", None),
    ],
)
def test_host_of(value: str, expected: str | None) -> None:
    """Remote-MTA style values give a lower-case host name without port or brackets."""
    assert F.host_of(value) == expected


def test_reply_code_not_taken_from_numbers_in_text() -> None:
    """A reply code is a three-digit code at the start of a reply, not any number."""
    assert F.find_reply_code("Giving up on 192.0.2.20. Remote host said: 552 full") == 552
    assert F.find_reply_code("queued 2026 for 100% sure") is None


@pytest.mark.parametrize(
    ("field", "in_text", "expected"),
    [
        ("5.0.0", "5.7.1", "5.7.1"),  # a generic Status: the remote reply's code says more
        ("5.1.1", "5.2.2", "5.2.2"),  # a Status that disagrees with the reply it quotes
        ("4.5.0", "5.5.0", "5.5.0"),  # even in class: the reply is what the server said
        ("5.1.1", "5.0.0", "5.1.1"),  # a generic code in the text never replaces the field
        ("5.1.1", None, "5.1.1"),
        (None, "5.0.0", "5.0.0"),
        (None, None, None),
    ],
)
def test_preferred_status(field: str | None, in_text: str | None, expected: str | None) -> None:
    """A specific code in the diagnostic wins over a generic or disagreeing Status field."""
    assert F.preferred_status(field, in_text) == expected


def test_find_statuses_in_order() -> None:
    """Every enhanced code of a text is found, in order, versions and addresses left out."""
    text = "550 4.4.7 expired; earlier: 441 4.4.1 no answer (v2.1.3, 192.0.2.1)"
    assert F.find_statuses(text) == ["4.4.7", "4.4.1"]


@settings(max_examples=400)
@given(st.text(alphabet="ab.@-_<> ,\n\u00e9", max_size=80))
def test_find_addresses_finds_every_match_in_order(text: str) -> None:
    """The searches that stop at the last "@" find what a scan of the whole text finds."""
    expected: dict[str, str] = {}
    for match in F.ADDRESS.finditer(text):
        address = match.group(1).strip(".")
        expected.setdefault(address.lower(), address)
    assert F.find_addresses(text) == list(expected.values())


def test_find_addresses_reads_short_addresses_close_together() -> None:
    assert F.find_addresses("a@x b@y,c@z") == ["a@x", "b@y", "c@z"]
