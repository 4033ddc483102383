"""Provider reply rules: rate limits, reputation blocks and authentication failures of the large
providers get their category whatever reason their words suggest (classify/replies.py)."""

from __future__ import annotations

import pytest

from bounced.classify import replies
from bounced.model import Action, Category, Provider, Reason

C = Category
P = Provider
R = Reason


def category(text: str, provider: Provider = P.OTHER, reason: Reason = R.ONHOLD) -> Category | None:
    found = replies.category_of(text.lower(), provider, reason)
    return found[0] if found else None


GMAIL_RATE = (
    "421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail "
    "originating from your IP address. mail has been temporarily rate limited"
)
GMAIL_LOW = "421 4.7.0 Suspicious due to the very low reputation of the sending domain"
GMAIL_BLOCK = "550 5.7.1 likely suspicious due to the very low reputation of the sending IP"
GMAIL_AUTH = "550 5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM"
GMAIL_RECEIVING = "450 4.2.1 The user you are trying to contact is receiving mail too quickly"
MS_S3150 = "550 5.7.1 part of their network is on our block list (S3150)"
MS_BANNED = "550 5.7.606 Access denied, banned sending IP [192.0.2.1]"
MS_REPUTATION = "451 4.7.650 The mail server has been temporarily rate limited due to IP reputation"
MS_RP = "421 RP-001 (BAY004-MC1F2) Unfortunately, some messages from 192.0.2.1 weren't sent"
YAHOO_TSS04 = "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred"
YAHOO_TSS09 = "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred"
YAHOO_BL21 = "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1"


@pytest.mark.parametrize(
    ("text", "provider", "expected"),
    [
        (GMAIL_RATE, P.GMAIL, C.RATE),
        (GMAIL_LOW, P.GMAIL, C.RATE),
        (GMAIL_BLOCK, P.GMAIL, C.BLOCK),
        (GMAIL_AUTH, P.GMAIL, C.AUTH),
        (GMAIL_RECEIVING, P.GMAIL, C.RATE),
        (MS_S3150, P.MICROSOFT, C.BLOCK),
        (MS_BANNED, P.MICROSOFT, C.BLOCK),
        (MS_REPUTATION, P.MICROSOFT, C.RATE),
        (MS_RP, P.MICROSOFT, C.RATE),
        (YAHOO_TSS04, P.YAHOO, C.RATE),
        (YAHOO_TSS09, P.YAHOO, C.BLOCK),
        (YAHOO_BL21, P.YAHOO, C.BLOCK),
        ("421 mwinf5c79 ME Trop de connexions. OFR005_104", P.ORANGE, C.RATE),
        ("550 mwinf5c04 ME Adresse IP source bloquee. OFR006_102", P.ORANGE, C.BLOCK),
        ("421 4.2.0 Service refuse. OFR005_505 [505]", P.ORANGE, C.RATE),
        ("421 Too many connections, slow down. LPN105_104", P.LAPOSTE, C.RATE),
        ("550 5.5.0 service refused, please try later. LPN001_108", P.LAPOSTE, C.BLOCK),
        ("554 5.7.1 Client host rejected: abus detecte GU_EIB_02", P.SFR, C.BLOCK),
        ("421 4.7.0 Too many connections from your IP", P.SFR, C.RATE),
        ("550 5.7.1 Too many spams from your IP (192.0.2.1)", P.FREE, C.BLOCK),
        ("421 4.7.0 Too many errors from your IP (192.0.2.1)", P.FREE, C.RATE),
        ("554 gmx.net (mxgmx) Nemesis ESMTP Service not available", P.GMX, C.BLOCK),
        ("550 Reject due to policy restrictions (IP based)", P.GMX, C.BLOCK),
        ("421 Ratelimit exceeded, try again later", P.MAILRU, C.RATE),
        ("550 spam message rejected. Please visit help.mail.ru", P.MAILRU, C.BLOCK),
        ("554 5.7.1 [1] Message rejected under suspicion of SPAM", P.YANDEX, C.BLOCK),
        ("450 4.2.1 The recipient has exceeded message rate limit.", P.YANDEX, C.RATE),
    ],
)
def test_provider_rules(text: str, provider: Provider, expected: Category) -> None:
    """Each large provider's rate limits and blocks get their category."""
    assert category(text, provider) is expected


def test_provider_restricted_rows() -> None:
    """A row restricted to a provider does not fire for another."""
    text = "550 5.7.1 Client host rejected: abus detecte GU_EIB_02"
    assert category(text, P.ORANGE) is None


def test_documented_rate_limit_overrides_an_address_reason() -> None:
    """Tencent's "mailbox unavailable or access denied" is a rate limit, not a suspended box."""
    text = "550 Mailbox unavailable or access denied"
    assert category(text, P.TENCENT, R.SUSPEND) is C.RATE


def test_common_wording_never_overrides_an_address_reason() -> None:
    """ "Spam" in an unknown-user reply does not make it a reputation block."""
    text = "550 5.1.1 user unknown (spam filter notice)"
    assert category(text, P.OTHER, R.USERUNKNOWN) is None
    assert category(text, P.OTHER, R.ONHOLD) is C.BLOCK


def test_actions_follow_the_category() -> None:
    """Rate throttles, block counts against reputation, auth alerts."""
    found = replies.category_of("421 4.7.0 [tss04] deferred", P.YAHOO, R.REJECTED)
    assert found == (C.RATE, Action.THROTTLE)
    assert replies.category_of("", P.YAHOO, R.REJECTED) is None
