"""MTA and local delivery agent wording that states a reason (classify/mta.py)."""

from __future__ import annotations

import pytest

from bounced.classify import mta
from bounced.model import Reason

R = Reason


def test_exim_router_and_transport_messages() -> None:
    """Exim's own error strings name their reason when the notice is Exim's."""
    said = mta.said("Unrouteable address", "Mail delivery failed: returning message to sender")
    assert said.reason is R.HOSTUNKNOWN
    said = mta.said("an MX or SRV record indicated no SMTP service", "Mail delivery failed")
    assert said.reason is R.NOTACCEPT
    assert mta.said("retry timeout exceeded", "Mail delivery failed").reason is R.EXPIRED


def test_exim_needs_its_marker() -> None:
    """The same words in a notice of unknown software state nothing."""
    assert mta.said("user not found", "Undelivered Mail Returned to Sender").reason is None


def test_exim_refusal_at_helo_is_a_block() -> None:
    """An Exim notice of a refused HELO is a block of the sending host."""
    said = mta.said("SMTP error from remote mail server after HELO: 550 no", "x", command="HELO")
    assert said.reason is R.BLOCKED


def test_qmail_names_the_failed_step() -> None:
    """qmail's wording says which SMTP step failed, and a refused greeting is a block."""
    text = "Connected to 192.0.2.1 but my name was rejected. Remote host said: 501 5.0.0 bad"
    said = mta.said(text, "failure notice")
    assert (said.reason, said.command) == (R.BLOCKED, "EHLO")
    said = mta.said("192.0.2.1 does not like recipient. Remote host said: 550 no", "failure notice")
    assert said.command == "RCPT"
    assert (
        mta.said(
            "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)", "failure notice"
        ).reason
        is R.NOTACCEPT
    )


def test_qmail_unable_to_needs_a_qmail_notice() -> None:
    """ "Unable to" is a qmail system error only in a qmail notice."""
    text = "Unable to deliver message after multiple retries, giving up."
    assert mta.said(text, "Failure Notice").reason is R.SYSTEMERROR
    assert mta.said(text, "Undeliverable").reason is None


@pytest.mark.parametrize(
    ("state", "reason", "command"),
    [("13", R.BLOCKED, "EHLO"), ("14", R.USERUNKNOWN, "RCPT"), ("18", R.FILTERED, "DATA")],
)
def test_gmail_states(state: str, reason: Reason, command: str) -> None:
    """Gmail's "(state N)" names the step and the reason."""
    text = f"Technical details of permanent failure: 550 550 refused (state {state})."
    assert mta.said(text) == mta.Said(reason, command)


def test_gmail_specific_status_overrides_the_state() -> None:
    """A specific status code in the remote reply overrides Gmail's own state."""
    text = (
        "Technical details of permanent failure: returned was: 550 550 5.7.1 "
        "<a@example.jp>... Access denied (state 13)."
    )
    assert mta.said(text) == mta.Said(R.SECURITYERROR, "EHLO")


def test_gmail_delay_notice_is_expired() -> None:
    """Gmail's delay notice and connection failures are expirations."""
    assert mta.said("Message will be retried for 2 more day(s)").reason is R.EXPIRED


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MSEXCH:IMS:KIJITORA CAT:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient", R.USERUNKNOWN),
        ("MSEXCH:IMS:NEKO 0 (000C0595) Ambiguous Recipient", R.FILTERED),
        (
            "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'",
            R.USERUNKNOWN,
        ),
        ("#550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large ##", R.EXCEEDLIMIT),
    ],
)
def test_exchange_codes(text: str, reason: Reason) -> None:
    """Exchange's NDR codes name their reason in any notice."""
    assert mta.said(text).reason is reason


@pytest.mark.parametrize(
    ("text", "subject", "reason"),
    [
        ("Could not deliver for the last 432000 seconds. Giving up.", "", R.EXPIRED),
        ("User some.name (a@example.jp) not listed in Domino Directory", "", R.USERUNKNOWN),
        ("No such domain.", "NOTICE: mail delivery status.", R.HOSTUNKNOWN),
        (
            "Body of message generated response: 550 Blacklisted URL in message",
            "Undeliverable Mail",
            R.SPAMDETECTED,
        ),
        ("Reason: delivery retry timeout exceeded", "", R.EXPIRED),
    ],
)
def test_other_mtas(text: str, subject: str, reason: Reason) -> None:
    """DragonFly, Domino, Courier, iMail Server and GMX notices."""
    assert mta.said(text, subject).reason is reason


@pytest.mark.parametrize(
    ("text", "sender", "reason"),
    [
        (
            "Error: 550 - Requested action not taken: no such user here",
            "post_master@vtext.com",
            R.USERUNKNOWN,
        ),
        ("Error: No valid recipients", "sysadmin@mms.vzwpix.com", R.USERUNKNOWN),
        (
            (
                "Your message wasn't delivered to a@example.org because the address couldn't be "
                "found. Check for typos or unnecessary spaces and try again."
            ),
            "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            R.USERUNKNOWN,
        ),
        (
            "DNS Error: DNS type 'mx' lookup of example.org responded with code NXDOMAIN",
            "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            R.NETWORKERROR,
        ),
        ("542 a@example.com Rejected", "MAILER-DAEMON@messagelabs.com", R.USERUNKNOWN),
    ],
)
def test_notices_recognised_by_sender(text: str, sender: str, reason: Reason) -> None:
    """Verizon, Google Workspace and MessageLabs notices, known by their sender."""
    assert mta.said(text, "Undeliverable", sender).reason is reason


def test_sender_marker_is_required() -> None:
    """MessageLabs' "542 ... Rejected" from any other sender states nothing."""
    assert (
        mta.said("542 a@example.com Rejected", "Undeliverable", "postmaster@example.net").reason
        is None
    )


def test_local_delivery_agents() -> None:
    """A local delivery agent's refusal: its table, else a mailer error."""
    assert mta.local_agent("maildrop: maildir over quota.", None) is R.MAILBOXFULL
    assert mta.local_agent("procmail: couldn't create /var/mail/x", "DATA") is R.MAILERERROR
    assert mta.local_agent("procmail: couldn't create /var/mail/x", "RCPT") is None
    assert mta.local_agent("550 user unknown", None) is None
