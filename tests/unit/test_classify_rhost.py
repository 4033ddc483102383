"""Remote-host rules: the receiving system's own documented replies (classify/rhost.py)."""

from __future__ import annotations

import pytest

from bounced.classify import rhost
from bounced.classify.rhost import System
from bounced.model import Reason

R = Reason


def reply(
    text: str, status: str | None = None, code: int | None = None, command: str | None = None
) -> rhost.Reply:
    return rhost.Reply(text=text.lower(), raw=text, status=status, reply=code, command=command)


@pytest.mark.parametrize(
    ("domain", "system"),
    [
        ("qq.com", System.TENCENT),
        ("charter.net", System.SPECTRUM),
        ("cox.net", System.COX),
        ("hotmail.com", System.OUTLOOK),
        ("laposte.net", System.FRANCEPTT),
        ("gmail.com", None),
        ("example.com", None),
    ],
)
def test_system_by_recipient_domain(domain: str, system: System | None) -> None:
    """A domain names a system when it is the tail of one of the system's host names."""
    assert rhost.system_of_domain(domain) is system


@pytest.mark.parametrize(
    ("host", "system"),
    [
        ("gmail-smtp-in.l.google.com", System.GOOGLE),
        ("mta7.am0.yahoodns.net", System.YAHOOINC),
        ("example-com.mail.protection.outlook.com", System.MICROSOFT),
        ("smtpz4.laposte.net", System.FRANCEPTT),
        ("mx.example.org", None),
        ("", None),
    ],
)
def test_system_by_remote_host(host: str, system: System | None) -> None:
    """A remote or reporting host belongs to the system whose host-name tail it has."""
    assert rhost.system_of_host(host) is system


def test_host_in_reply_text() -> None:
    """The remote host is read where reports name it, else a known system's host anywhere."""
    assert rhost.host_in("host mx.example.jp[192.0.2.1] said: 550 no") == "mx.example.jp"
    assert rhost.host_in("... while talking to mx03.example.org.: >>> DATA") == "mx03.example.org"
    assert rhost.host_in("550 refused [a1.mail.protection.outlook.com]") == (
        "a1.mail.protection.outlook.com"
    )
    assert rhost.host_in("550 nothing to see") is None


def test_host_in_text_needs_whole_labels() -> None:
    """A system's host-name tail inside a longer label is not that system's host."""
    assert rhost.host_in("refused at relay.xcox.net today") is None
    assert rhost.host_in("refused at mx1.cox.net today") == "mx1.cox.net"
    assert rhost.host_in("the ghost mx.example.com said no") is None


def test_google_rows_need_the_documented_codes() -> None:
    """Google's rows hold only with the reply and status codes Google documents for them."""
    text = "421 4.7.28 Our system has detected an unusual rate of mail originating from your IP"
    assert rhost.find(System.GOOGLE, reply(text, "4.7.28", 421)) is R.BLOCKED
    assert rhost.find(System.GOOGLE, reply(text, "4.7.1", 421)) is None
    low = "550 5.7.1 likely suspicious due to the very low reputation of the sending domain"
    assert rhost.find(System.GOOGLE, reply(low, "5.7.1", 550)) is R.BADREPUTATION
    spf = "550 5.7.26 has an SPF record with a hard fail policy (-all) but it fails"
    assert rhost.find(System.GOOGLE, reply(spf, "5.7.26", 550)) is R.AUTHFAILURE


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("550 5.7.606 Access denied, banned sending IP [192.0.2.1]", "5.7.606", R.BLOCKED),
        ("550 5.7.650 Access denied, banned sending IP [192.0.2.1]", "5.7.650", None),
        (
            "451 4.7.650 The mail server has been temporarily rate limited due to IP reputation",
            "4.7.650",
            R.BADREPUTATION,
        ),
        ("550 5.4.1 Recipient address rejected: Access denied", "5.4.1", R.USERUNKNOWN),
        ("450 4.7.3 Organization queue quota exceeded.", "4.7.3", R.TOOMANYCONN),
        (
            (
                "554 5.2.121 The sender has exceeded the limit for the number of messages they"
                " can send to this recipient per hour."
            ),
            "5.2.121",
            R.TOOMANYCONN,
        ),
        ("450 4.7.1 Organization queue quota exceeded.", "4.7.1", None),
        (
            "550 5.7.515 Access denied, doesn't meet the required authentication level",
            "5.7.515",
            R.AUTHFAILURE,
        ),
    ],
)
def test_microsoft_rows_match_exact_codes_or_ranges(
    text: str, status: str, reason: Reason | None
) -> None:
    """Microsoft's rows hold for the exact code, or for a code in the documented range."""
    assert rhost.find(System.MICROSOFT, reply(text, status, int(text[:3]))) is reason


def test_microsoft_postmaster_codes_need_their_reply_code() -> None:
    """Outlook.com's troubleshooting codes (RP-001, SC-004, ...) count with their reply code."""
    text = "550 SC-004 Mail rejected by Outlook.com for policy reasons"
    assert rhost.find(System.MICROSOFT, reply(text, None, 550)) is R.BLOCKED
    assert rhost.find(System.MICROSOFT, reply(text, None, 421)) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "550 mwinf ME Adresse IP source bloquee. OFR006_102 Ref http://csi.cloudmark.com",
            R.BLOCKED,
        ),
        ("421 mwinf ME Trop de connexions. OFR005_104 [104]", R.TOOMANYCONN),
        ("550 5.1.1 Invalid recipient. OFR_416 [416]", R.USERUNKNOWN),
        ("552 5.1.1 Boite du destinataire pleine. OFR_417 [417]", R.MAILBOXFULL),
        ("550 5.5.0 Le compte du destinataire est bloque. LPN007_426", R.SUSPEND),
        ("550 5.5.0 service refused, please try later. LPN001_108", R.BLOCKED),
        ("421 4.2.0 Service refuse. OFR005_505 [505]", R.SYSTEMERROR),
        ("550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", R.SPAMDETECTED),
    ],
)
def test_orange_and_la_poste_codes(text: str, reason: Reason) -> None:
    """Orange's OFR and La Poste's LPN codes decide by their last three digits."""
    assert rhost.find(System.FRANCEPTT, reply(text)) is reason


def test_cox_godaddy_spectrum_iua_and_facebook_codes() -> None:
    """Systems that answer with their own error codes are read by the code."""
    assert rhost.find(System.COX, reply("554 5.7.1 AUP#CXBL blocked")) is R.BLOCKED
    assert rhost.find(System.COX, reply("421 AUP#CXCNCT too many")) is R.TOOMANYCONN
    assert rhost.find(System.GODADDY, reply("554 This IP has been blocked for the day IB111")) is (
        R.BLOCKED
    )
    assert rhost.find(System.GODADDY, reply("421 Connection refused, too many sessions IB007")) is (
        R.TOOMANYCONN
    )
    spectrum = "550 5.1.0 sender rejected. See understanding-email-error-codes AUP#In-1310"
    assert rhost.find(System.SPECTRUM, reply(spectrum)) is R.TOOMANYCONN
    assert rhost.find(System.SPECTRUM, reply("550 blocked AUP#O-1220")) is R.BLOCKED
    assert rhost.find(System.IUA, reply("550 see https://mail.i.ua/err/2/")) is R.USERUNKNOWN
    assert rhost.find(System.FACEBOOK, reply("550 5.1.1 RCP-P1 not exist")) is R.USERUNKNOWN


def test_yahoo_apple_tencent_phrases() -> None:
    """Phrase tables of Yahoo, Apple and Tencent."""
    tss04 = (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
        "volume or user complaints - 4.16.55.1"
    )
    assert rhost.find(System.YAHOOINC, reply(tss04)) is R.REJECTED
    assert rhost.find(System.APPLE, reply("550 5.1.1 <a@icloud.com>: inactive email address")) is (
        R.SUSPEND
    )
    assert rhost.find(System.APPLE, reply("421 4.7.1 deferred due to excessive volume")) is (
        R.SPEEDING
    )
    assert rhost.find(System.TENCENT, reply("550 Mailbox not found")) is R.USERUNKNOWN


def test_nttdocomo_reads_status_and_command() -> None:
    """docomo's "550 Unknown user" is a filter after DATA and the address at RCPT."""
    text = "550 unknown user neko@docomo.ne.jp"
    assert rhost.find(System.NTTDOCOMO, reply(text, "5.0.0", 550, "DATA")) is R.REJECTED
    assert rhost.find(System.NTTDOCOMO, reply(text, "5.0.0", 550, "RCPT")) is R.USERUNKNOWN
    assert rhost.find(System.NTTDOCOMO, reply(text, "5.2.0", 550)) is R.FILTERED
    assert (
        rhost.find(
            System.NTTDOCOMO, reply("504 command parameter not implemented", "5.0.0", 504, "DATA")
        )
        is R.SYNTAXERROR
    )


def test_mimecast_rows_need_the_reply_code() -> None:
    """Mimecast's texts count only with the reply code Mimecast documents for them."""
    assert (
        rhost.find(System.MIMECAST, reply("554 email rejected due to security policies", code=554))
        is R.VIRUSDETECTED
    )
    assert (
        rhost.find(System.MIMECAST, reply("550 email rejected due to security policies", code=550))
        is None
    )


def test_gsuite_dns_errors_depend_on_the_class() -> None:
    """An NXDOMAIN is an unknown host when permanent, a network error when temporary."""
    text = "DNS type 'mx' lookup of example.comn responded with code NXDOMAIN"
    assert rhost.find(System.GSUITE, reply(text, "5.0.0", 550)) is R.HOSTUNKNOWN
    assert rhost.find(System.GSUITE, reply(text, "4.0.0", None)) is R.NETWORKERROR
