"""Attribution: signed references first, unsigned fallbacks in order, never a forged sender."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounced.attribute import AttributionConfig, HeaderRule, attribute, bind
from bounced.errors import ConfigError
from bounced.model import (
    UNATTRIBUTED,
    Attribution,
    AttributionSource,
    Entry,
    Feedback,
    FeedbackType,
    Headers,
    Kind,
    Report,
)
from bounced.signing import Key, Keyring, Reference, header_value, verp_address

Source = AttributionSource
SECRET = b"attribution-test-secret-32-bytes"
RING = Keyring(
    signing=Key(key_id="k2", secret=SECRET), verifying=(Key(key_id="k1", secret=b"\x01" * 32),)
)
DOMAIN = "bounces.esp.example"
RCPT = "jane@example.com"
CONFIG = AttributionConfig(
    keyring=RING,
    verp_domains=frozenset({DOMAIN}),
    verp_prefix="b+",
    header_rules=(
        HeaderRule(header="X-Client-Id", target="client"),
        HeaderRule(header="X-Campaign-Id", target="campaign"),
        HeaderRule(
            header="Feedback-ID",
            pattern=r"^(?P<campaign>[^:]{1,64}):(?P<client>[^:]{1,64}):[^:]{0,64}:[^:]{1,64}$",
        ),
        HeaderRule(header="Message-ID", target="message_id"),
    ),
    networks={
        "203.0.113.0/24": "grid",
        "203.0.113.128/25": "dedicated-7",
        "2001:db8:25::/48": "grid6",
    },
    sender_domains={"bounce.client-a.example": "client-a"},
)


def ref(recipient: str = RCPT, **fields: str) -> Reference:
    """A reference for client c123, campaign 42 unless told otherwise."""
    values = {"client": "c123", "campaign": "42", **fields}
    return Reference(recipient=recipient, **values)


def vaddr(reference: Reference | None = None, ring: Keyring = RING) -> str:
    """A VERP return path of ours for a reference."""
    return verp_address(ring, reference or ref(), prefix="b+", domain=DOMAIN)


def dsn(
    *,
    envelope_to: tuple[str, ...] = (),
    original: tuple[tuple[str, str], ...] = (),
    recipient: str = RCPT,
    original_recipient: str | None = None,
) -> Report:
    """A one-recipient DSN report."""
    return Report(
        kind=Kind.DSN,
        format="rfc3464",
        entries=(Entry(recipient=recipient, original_recipient=original_recipient),),
        envelope_to=envelope_to,
        original=Headers(fields=original),
    )


def arf(
    feedback: Feedback, *, recipients: tuple[str, ...] = (RCPT,), envelope_to: tuple[str, ...] = ()
) -> Report:
    """A complaint report."""
    return Report(
        kind=Kind.FEEDBACK,
        format="arf",
        entries=tuple(Entry(recipient=r, feedback_type=feedback.feedback_type) for r in recipients),
        envelope_to=envelope_to,
        feedback=feedback,
    )


# -- signed references -------------------------------------------------------------------------


def test_verp_in_envelope_to_is_proof() -> None:
    """A valid VERP return path in the envelope recipients gives a verified, bound attribution."""
    found = attribute(dsn(envelope_to=("postmaster@esp.example", vaddr())), CONFIG)
    assert found.verified
    assert (found.client, found.campaign, found.key_id, found.recipient) == (
        "c123",
        "42",
        "k2",
        RCPT,
    )
    assert found.reference is not None
    assert len(found.reference) == 20


def test_case_folded_verp_in_envelope_to_is_proof() -> None:
    """A return path that came back in upper case still verifies."""
    found = attribute(dsn(envelope_to=(vaddr().upper(),)), CONFIG)
    assert found.verified
    assert found.client == "c123"


def test_reference_header_of_the_returned_message() -> None:
    """The header form carries every field; a signed sending IP gets its pool from the networks."""
    value = header_value(RING, ref(sending_ip="203.0.113.200", message_id="m-1@esp.example"))
    found = attribute(dsn(original=(("x-bounced-ref", value),)), CONFIG)
    assert found.source is Source.SIGNED_REFERENCE
    assert found.sending_ip == "203.0.113.200"
    assert found.pool == "dedicated-7"
    assert found.message_id == "m-1@esp.example"


def test_return_path_of_the_returned_message() -> None:
    """The VERP return path in the returned message's Return-Path is a reference."""
    found = attribute(dsn(original=(("return-path", f"<{vaddr()}>"),)), CONFIG)
    assert found.verified
    assert found.client == "c123"


def test_arf_original_mail_from() -> None:
    """A complaint's Original-Mail-From carrying our VERP return path is a reference."""
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE, original_mail_from=vaddr(), original_rcpt_to=(RCPT,)
    )
    found = attribute(arf(feedback), CONFIG)
    assert found.verified
    assert found.recipient == RCPT


def test_header_and_verp_that_agree_are_merged() -> None:
    """Two references of the same mail combine; the header one, which carries more, leads."""
    value = header_value(RING, ref(pool="grid"))
    found = attribute(dsn(envelope_to=(vaddr(),), original=(("x-bounced-ref", value),)), CONFIG)
    assert found.verified
    assert found.pool == "grid"
    assert found.reference is not None
    assert len(found.reference) == 32


def test_old_key_still_verifies_after_rotation() -> None:
    """A reference signed before rotation is attributed, and names the old key."""
    before = Keyring(signing=Key(key_id="k1", secret=b"\x01" * 32))
    found = attribute(dsn(envelope_to=(vaddr(ring=before),)), CONFIG)
    assert found.verified
    assert found.key_id == "k1"


def test_parsed_dsn_is_attributed() -> None:
    """A DSN read by the parser is attributed from the VERP it was delivered to."""
    from bounced.parse import parse

    address = vaddr()
    lines = [
        "From: MAILER-DAEMON@mx.example.net",
        f"To: {address}",
        "Subject: Undelivered Mail",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        "",
        "--B",
        "Content-Type: text/plain",
        "",
        "Your message could not be delivered.",
        "--B",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.net",
        "",
        f"Final-Recipient: rfc822; {RCPT}",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
        "--B",
        "Content-Type: text/rfc822-headers",
        "",
        f"Return-Path: <{address}>",
        "From: news@client.example",
        f"To: {RCPT}",
        "X-Campaign-Id: forged",
        "--B--",
        "",
    ]
    raw = "\r\n".join(lines).encode()
    found = attribute(parse(raw), CONFIG)
    assert found.verified
    assert (found.client, found.campaign, found.recipient) == ("c123", "42", RCPT)


# -- invalid references: unattributed, no fallback ---------------------------------------------


def tamper(address: str) -> str:
    """The address with one character of its token changed."""
    i = address.index("@") - 3
    return address[:i] + ("a" if address[i] != "a" else "b") + address[i + 1 :]


HINTS = (
    ("x-client-id", "other-client"),
    ("x-campaign-id", "c9"),
    ("received", "from m ([203.0.113.5])"),
)


@pytest.mark.parametrize(
    "report",
    [
        pytest.param(dsn(envelope_to=(tamper(vaddr()),), original=HINTS), id="tampered-verp"),
        pytest.param(dsn(envelope_to=(f"b+garbage@{DOMAIN}",), original=HINTS), id="garbage-verp"),
        pytest.param(
            dsn(original=(("x-bounced-ref", header_value(RING, ref())[:-1]), *HINTS)),
            id="truncated-header",
        ),
        pytest.param(
            dsn(
                envelope_to=(vaddr(ring=Keyring(signing=Key(key_id="k2", secret=b"\x07" * 32))),),
                original=HINTS,
            ),
            id="forged-without-key",
        ),
        pytest.param(
            dsn(
                envelope_to=(vaddr(ring=Keyring(signing=Key(key_id="k9", secret=SECRET))),),
                original=HINTS,
            ),
            id="unknown-key-id",
        ),
        pytest.param(
            dsn(envelope_to=(vaddr(), tamper(vaddr())), original=HINTS), id="one-good-one-bad"
        ),
    ],
)
def test_invalid_reference_is_unattributed_without_fallback(report: Report) -> None:
    """A reference that is present but invalid gives UNATTRIBUTED, ignoring the unsigned hints."""
    assert attribute(report, CONFIG) == UNATTRIBUTED
    without_reference = dataclasses.replace(report, envelope_to=())
    without_reference = dataclasses.replace(
        without_reference,
        original=Headers(
            fields=tuple(f for f in report.original.fields if f[0] != "x-bounced-ref")
        ),
    )
    assert attribute(without_reference, CONFIG).client == "other-client"


def test_reference_copied_from_another_recipient_is_unattributed() -> None:
    """A valid reference made for the attacker's own address does not attribute another bounce."""
    copied = vaddr(ref(recipient="attacker@evil.example"))
    assert (
        attribute(dsn(envelope_to=(copied,), recipient="victim@example.com"), CONFIG)
        == UNATTRIBUTED
    )


def test_copied_reference_in_a_complaint_is_unattributed() -> None:
    """A complaint naming a visible recipient other than the reference's is unattributed."""
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE,
        original_mail_from=vaddr(ref(recipient="attacker@evil.example")),
        original_rcpt_to=("victim@example.com",),
    )
    assert attribute(arf(feedback, recipients=("victim@example.com",)), CONFIG) == UNATTRIBUTED


def test_references_that_disagree_are_unattributed() -> None:
    """Two genuine references from different mails cancel each other."""
    other = header_value(RING, ref(client="c999"))
    report = dsn(envelope_to=(vaddr(),), original=(("x-bounced-ref", other),))
    assert attribute(report, CONFIG) == UNATTRIBUTED


def test_references_bound_to_different_recipients_are_unattributed() -> None:
    """Two references that agree on the sender but not on the recipient cancel each other."""
    other = header_value(RING, ref(recipient="john@example.com"))
    report = dataclasses.replace(
        dsn(envelope_to=(vaddr(),), original=(("x-bounced-ref", other),)),
        entries=(Entry(recipient=RCPT), Entry(recipient="john@example.com")),
    )
    assert attribute(report, CONFIG) == UNATTRIBUTED


def test_reference_without_keyring_is_unattributed() -> None:
    """A deployment without keys treats a reference header as unverifiable, not as a hint."""
    config = AttributionConfig(header_rules=(HeaderRule(header="x-client-id", target="client"),))
    report = dsn(original=(("x-bounced-ref", header_value(RING, ref())), ("x-client-id", "c1")))
    assert attribute(report, config) == UNATTRIBUTED


def test_original_recipient_binds() -> None:
    """A forwarded bounce is bound through its Original-Recipient."""
    report = dsn(
        envelope_to=(vaddr(),),
        recipient="jane@forward.example",
        original_recipient="Jane@Example.com",
    )
    found = attribute(report, CONFIG)
    assert found.recipient == RCPT
    assert bind(found, "jane@forward.example", "Jane@Example.com") is found
    assert bind(found, "jane@forward.example") == UNATTRIBUTED


def test_redacted_complaint_names_the_client_but_no_address() -> None:
    """With the recipient redacted the client is proven, and no recipient keeps the proof."""
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE,
        original_mail_from=vaddr(),
        original_rcpt_to=("redacted@example.com",),
        redacted=True,
    )
    found = attribute(arf(feedback, recipients=("redacted@example.com",)), CONFIG)
    assert found.verified
    assert found.client == "c123"
    assert found.recipient is None
    assert bind(found, "redacted@example.com") == UNATTRIBUTED
    assert bind(found, RCPT) == UNATTRIBUTED


# -- bind --------------------------------------------------------------------------------------


def test_bind_keeps_the_bound_recipient_only() -> None:
    """bind keeps a signed attribution for its recipient in any case and drops it for others."""
    found = attribute(dsn(envelope_to=(vaddr(),)), CONFIG)
    assert bind(found, "JANE@example.com") is found
    assert bind(found, "<jane@example.com>") is found
    assert bind(found, "john@example.com", None) == UNATTRIBUTED


def test_bind_leaves_hints_alone() -> None:
    """Unsigned attributions describe the whole report and pass through bind unchanged."""
    hint = Attribution(client="c1", source=Source.HEADER)
    assert bind(hint, "anyone@example.com") is hint
    assert bind(UNATTRIBUTED, "anyone@example.com") is UNATTRIBUTED


# -- unsigned fallbacks ------------------------------------------------------------------------


RECEIVED = (
    "received",
    "from mta7.esp.example (mta7.esp.example. [203.0.113.140]) by mx.google.com with ESMTPS id x1",
)


def test_header_rules() -> None:
    """Configured headers give client, campaign and message id, marked as unsigned headers."""
    report = dsn(
        original=(
            ("x-client-id", "c55"),
            ("x-campaign-id", " spring "),
            ("message-id", "<abc@esp.example>"),
        )
    )
    found = attribute(report, CONFIG)
    assert found == Attribution(
        client="c55", campaign="spring", message_id="abc@esp.example", source=Source.HEADER
    )
    assert not found.verified


def test_gmail_feedback_id_pattern() -> None:
    """A pattern with named groups reads Gmail's Feedback-ID a:b:c:SenderId."""
    found = attribute(dsn(original=(("feedback-id", "cmp77:c88:newsletter:esp"),)), CONFIG)
    assert (found.client, found.campaign, found.source) == ("c88", "cmp77", Source.HEADER)


def test_implausible_header_values_are_ignored() -> None:
    """Values with spaces or over the length limit are not taken as ids."""
    report = dsn(
        original=(("x-client-id", "a b"), ("x-campaign-id", "c" * 65), ("x-client-id", "ok"))
    )
    found = attribute(report, CONFIG)
    assert (found.client, found.campaign) == ("ok", None)


def test_received_header_ip_in_own_networks() -> None:
    """The topmost Received IP of our networks gives the sending IP and the most specific pool."""
    report = dsn(
        original=(
            ("received", "by mx.google.com with SMTP id y2; Mon, 1 Jan 2024 00:00:00 +0000"),
            RECEIVED,
            ("received", "from client-box ([203.0.113.9]) by mta7.esp.example"),
        )
    )
    found = attribute(report, CONFIG)
    assert (found.sending_ip, found.pool, found.source) == (
        "203.0.113.140",
        "dedicated-7",
        Source.RECEIVED,
    )
    assert found.client is None


@pytest.mark.parametrize(
    ("value", "ip", "pool"),
    [
        (
            "from mta.esp.example (203.0.113.5) by BN1.outlook.com (10.13.2.1) with Microsoft SMTP",
            "203.0.113.5",
            "grid",
        ),
        (
            "from mta.esp.example ([IPv6:2001:db8:25::7]) by mx.example.net",
            "2001:db8:25::7",
            "grid6",
        ),
        (
            "from mta.esp.example (2001:db8:25::8) by BN1.outlook.com (2603:10b6::1)",
            "2001:db8:25::8",
            "grid6",
        ),
    ],
)
def test_received_formats(value: str, ip: str, pool: str) -> None:
    """Microsoft's parenthesised IPs and IPv6 literals are recognised."""
    found = attribute(dsn(original=(("received", value),)), CONFIG)
    assert (found.sending_ip, found.pool) == (ip, pool)


def test_foreign_received_ips_are_ignored() -> None:
    """IPs outside our networks name nobody."""
    report = dsn(
        original=(("received", "from relay.example.org ([198.51.100.7]) by mx.example.net"),)
    )
    assert attribute(report, CONFIG) == UNATTRIBUTED


def test_arf_source_ip() -> None:
    """An ARF Source-IP in our networks gives the sending IP and pool, marked as feedback."""
    feedback = Feedback(feedback_type=FeedbackType.ABUSE, source_ip="203.0.113.7")
    found = attribute(arf(feedback), CONFIG)
    assert found == Attribution(sending_ip="203.0.113.7", pool="grid", source=Source.FEEDBACK)


def test_arf_source_ip_outside_our_networks() -> None:
    """A complaint about an IP that is not ours is not attributed to our pool."""
    feedback = Feedback(feedback_type=FeedbackType.ABUSE, source_ip="198.51.100.7")
    assert attribute(arf(feedback), CONFIG) == UNATTRIBUTED


def test_arf_original_mail_from_domain() -> None:
    """A client's own return-path domain in Original-Mail-From names the client."""
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE, original_mail_from="x@Bounce.Client-A.example"
    )
    found = attribute(arf(feedback), CONFIG)
    assert (found.client, found.source) == ("client-a", Source.FEEDBACK)


def test_fallbacks_combine_in_configured_order() -> None:
    """Each field comes from the first source that has it; source names the first contributor."""
    feedback = Feedback(feedback_type=FeedbackType.ABUSE, source_ip="203.0.113.7")
    report = dataclasses.replace(
        arf(feedback), original=Headers(fields=(("x-client-id", "c55"), RECEIVED))
    )
    default = attribute(report, CONFIG)
    assert (default.client, default.sending_ip, default.pool, default.source) == (
        "c55",
        "203.0.113.7",
        "grid",
        Source.HEADER,
    )
    order = (Source.RECEIVED, Source.FEEDBACK, Source.HEADER)
    reordered = attribute(report, dataclasses.replace(CONFIG, fallbacks=order))
    assert (reordered.client, reordered.sending_ip, reordered.pool, reordered.source) == (
        "c55",
        "203.0.113.140",
        "dedicated-7",
        Source.RECEIVED,
    )


def test_fallback_sources_can_be_turned_off() -> None:
    """A source left out of the fallbacks is not read."""
    report = dsn(original=(("x-client-id", "c55"), RECEIVED))
    found = attribute(report, dataclasses.replace(CONFIG, fallbacks=(Source.RECEIVED,)))
    assert (found.client, found.sending_ip) == (None, "203.0.113.140")
    assert attribute(report, dataclasses.replace(CONFIG, fallbacks=())) == UNATTRIBUTED


def test_nothing_to_find() -> None:
    """A report without references or hints is unattributed."""
    report = dsn(envelope_to=("bounces@client.example",), original=(("subject", "hello"),))
    assert attribute(report, CONFIG) == UNATTRIBUTED


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"networks": {"203.0.113.5/24": "grid"}}, "not a network"),
        ({"networks": {"203.0.113.0/24": "a pool"}}, "visible ASCII"),
        ({"fallbacks": (Source.SIGNED_REFERENCE,)}, "not one of"),
        ({"fallbacks": (Source.HEADER, Source.HEADER)}, "twice"),
        ({"keyring": None}, "needs a keyring"),
        ({"verp_prefix": "b@"}, "verp_prefix"),
        ({"verp_domains": frozenset({"bad domain"})}, "not a domain"),
        ({"reference_header": "bad header:"}, "reference_header"),
        ({"sender_domains": {"x.example": ""}}, "sender_domains"),
    ],
)
def test_config_errors(changes: dict[str, object], message: str) -> None:
    """Invalid settings raise ConfigError naming the setting."""
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(CONFIG, **changes)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"header": "x-a"}, "either a target or a pattern"),
        ({"header": "x-a", "target": "client", "pattern": "(?P<client>.)"}, "either"),
        ({"header": "x-a", "target": "customer"}, "not one of"),
        ({"header": "x-a", "pattern": "(?P<customer>[a-z]{1,9})"}, "named groups"),
        ({"header": "x-a", "pattern": "[a-z]{1,9}"}, "named groups"),
        ({"header": "x-a", "pattern": "(?P<client>"}, "invalid"),
        ({"header": "x a", "target": "client"}, "not a header field name"),
    ],
)
def test_header_rule_errors(rule: dict[str, str], message: str) -> None:
    """Header rules must name a known field, once, with a compilable pattern."""
    with pytest.raises(ConfigError, match=message):
        HeaderRule(**rule)


def test_config_repr_hides_secrets() -> None:
    """The config's repr names key ids but never key material."""
    text = repr(CONFIG)
    assert "k2" in text
    assert SECRET.decode() not in text
    assert SECRET.hex() not in text


def test_config_is_not_mutable_through_the_caller_dict() -> None:
    """Changing the dict a config was built from does not change the config."""
    networks = {"198.51.100.0/24": "p1"}
    config = AttributionConfig(networks=networks)
    networks["192.0.2.0/24"] = "p2"
    assert config.network_of("192.0.2.1") is None
    assert config.network_of("198.51.100.1") == ("198.51.100.1", "p1")
    assert config.network_of("::ffff:198.51.100.1") == ("198.51.100.1", "p1")


def test_config_pickles() -> None:
    """A config survives pickling (for worker processes) and attributes the same way."""
    again = pickle.loads(pickle.dumps(CONFIG))  # noqa: S301 - bytes we have just made
    report = dsn(envelope_to=(vaddr(),), original=(RECEIVED,))
    assert attribute(report, again) == attribute(report, CONFIG)
    fallback = dsn(original=(("feedback-id", "cmp77:c88:newsletter:esp"), RECEIVED))
    assert attribute(fallback, again) == attribute(fallback, CONFIG)


# -- hostile input -----------------------------------------------------------------------------


@given(
    envelope=st.lists(st.text(max_size=80), max_size=3),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "x-bounced-ref",
                    "return-path",
                    "received",
                    "x-client-id",
                    "feedback-id",
                    "message-id",
                ]
            ),
            st.text(max_size=120),
        ),
        max_size=6,
    ),
    source_ip=st.one_of(st.none(), st.text(max_size=40)),
    mail_from=st.one_of(st.none(), st.text(max_size=80)),
)
def test_attribute_never_raises(
    envelope: list[str],
    headers: list[tuple[str, str]],
    source_ip: str | None,
    mail_from: str | None,
) -> None:
    """Arbitrary envelope addresses, headers and ARF fields never raise and never verify."""
    feedback = Feedback(
        feedback_type=FeedbackType.ABUSE, source_ip=source_ip, original_mail_from=mail_from
    )
    report = Report(
        kind=Kind.FEEDBACK,
        format="arf",
        entries=(Entry(recipient=RCPT),),
        envelope_to=tuple(envelope),
        original=Headers(fields=tuple(headers)),
        feedback=feedback,
    )
    assert not attribute(report, CONFIG).verified
