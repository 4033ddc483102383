"""Signed references: making, verifying, rotation, binding, limits and hostile input."""

from __future__ import annotations

import base64
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounced.errors import SigningError
from bounced.signing import (
    HEADER_TAG_BYTES,
    MAX_LOCAL_PART,
    VERP_TAG_BYTES,
    Key,
    Keyring,
    Reference,
    header_value,
    matches_recipient,
    verify_header,
    verify_verp,
    verp_address,
    verp_local_part,
    verp_token,
)

SECRET = b"0123456789abcdef-not-a-real-key!"
OLD = Key(key_id="k1", secret=b"\x11" * 32)
NEW = Key(key_id="k2", secret=b"\x22" * 32)
RING = Keyring(signing=NEW, verifying=(OLD,))
SHORT = Reference(client="c123", campaign="42", recipient="Jane.Doe@Example.com")
FULL = Reference(
    client="acme-corp",
    campaign="spring-2025",
    pool="grid",
    sending_ip="2001:db8::25",
    message_id="0102018f.abc@mta1.esp.example",
    recipient="jane.doe@example.com",
)
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def verp(reference: Reference = SHORT, ring: Keyring = RING) -> str:
    """The VERP token (local part without prefix) of a reference."""
    return verp_local_part(ring, reference, prefix="")


def reencode(token: str, change: int) -> str:
    """The token with one bit of its decoded bytes flipped, re-encoded canonically."""
    raw = bytearray(base64.b32decode(token[1:].upper() + "=" * (-len(token[1:]) % 8)))
    raw[change // 8] ^= 1 << (change % 8)
    return token[0] + base64.b32encode(bytes(raw)).decode().rstrip("=").lower()


def test_verp_round_trip() -> None:
    """A VERP token verifies and gives back every field it was made with."""
    found = verify_verp(RING, verp())
    assert found is not None
    assert (found.key_id, found.client, found.campaign) == ("k2", "c123", "42")
    assert (found.pool, found.sending_ip, found.message_id) == (None, None, None)
    assert len(found.tag) == VERP_TAG_BYTES


def test_header_round_trip_carries_every_field() -> None:
    """The header form carries pool, IPv6 sending IP and message id with a 128-bit tag."""
    found = verify_header(RING, header_value(RING, FULL))
    assert found is not None
    assert found.client == "acme-corp"
    assert found.campaign == "spring-2025"
    assert found.pool == "grid"
    assert found.sending_ip == "2001:db8::25"
    assert found.message_id == "0102018f.abc@mta1.esp.example"
    assert len(found.tag) == HEADER_TAG_BYTES


def test_ipv4_sending_ip_round_trips() -> None:
    """An IPv4 sending IP is packed in four bytes and read back as text."""
    reference = Reference(client="c1", sending_ip="203.0.113.7", recipient="a@example.com")
    found = verify_verp(RING, verp(reference))
    assert found is not None
    assert found.sending_ip == "203.0.113.7"


def test_verp_form_is_case_fold_safe_and_short() -> None:
    """The local part is lower-case base32 after the version char, within RFC 5321's 64 octets."""
    local = verp_local_part(RING, SHORT, prefix="B+")
    assert len(local) <= MAX_LOCAL_PART
    assert re.fullmatch(r"b\+1[a-z2-7]+", local)


def test_case_folded_verp_still_verifies() -> None:
    """An MTA that upper-cases the local part does not break the reference."""
    token = verp()
    assert verify_verp(RING, token.upper()) == verify_verp(RING, token)
    assert verify_header(RING, header_value(RING, FULL).upper()) is not None


def test_verp_address_and_token_extraction() -> None:
    """verp_token finds the token of our prefix and domain, whatever their case."""
    address = verp_address(RING, SHORT, prefix="b+", domain="Bounces.ESP.example.")
    assert address.endswith("@bounces.esp.example")
    domains = frozenset({"bounces.esp.example"})
    token = verp_token(f"<{address.upper()}>", prefix="b+", domains=domains)
    assert token is not None
    assert verify_verp(RING, token) is not None
    assert verp_token(address, prefix="x+", domains=domains) is None
    assert (
        verp_token(address.replace("esp.example", "other.example"), prefix="b+", domains=domains)
        is None
    )
    assert verp_token("no-at-sign", prefix="b+", domains=domains) is None


def test_every_character_substitution_is_rejected() -> None:
    """Replacing any character of a token with any other (not a case change) invalidates it."""
    for token, verify in ((verp(), verify_verp), (header_value(RING, FULL), verify_header)):
        for i in range(len(token)):
            for other in ALPHABET + "019":
                if other == token[i].lower():
                    continue
                tampered = token[:i] + other + token[i + 1 :]
                assert verify(RING, tampered) is None, (i, other)


def test_every_bit_flip_of_the_decoded_bytes_is_rejected() -> None:
    """Flipping any bit of payload or tag, re-encoded canonically, invalidates the reference."""
    token = verp(Reference(client="c1", pool="p", message_id="m1", recipient="a@example.com"))
    bits = 5 * (len(token) - 1) // 8 * 8
    for change in range(bits):
        assert verify_verp(RING, reencode(token, change)) is None, change


def test_truncated_or_extended_tokens_are_rejected() -> None:
    """A token cut short or with a character added does not verify."""
    token = verp()
    for bad in (token[:-1], token[:-2], token + "a", token[:1], "", "1"):
        assert verify_verp(RING, bad) is None


def test_forgery_without_the_key_fails() -> None:
    """A reference made with a different secret under the same key id does not verify."""
    forger = Keyring(signing=Key(key_id="k2", secret=b"\x99" * 32))
    assert verify_verp(RING, verp(ring=forger)) is None
    assert verify_header(RING, header_value(forger, FULL)) is None


def test_unknown_key_id_is_invalid() -> None:
    """A reference signed with a key id the keyring does not hold is invalid."""
    other = Keyring(signing=Key(key_id="k9", secret=OLD.secret))
    assert verify_verp(RING, verp(ring=other)) is None


def test_key_rotation() -> None:
    """After rotation the new key signs, the old key still verifies, and a retired key does not."""
    before = Keyring(signing=OLD)
    old_token = verp(ring=before)
    found = verify_verp(RING, old_token)
    assert found is not None
    assert found.key_id == "k1"
    new_found = verify_verp(RING, verp(ring=RING))
    assert new_found is not None
    assert new_found.key_id == "k2"
    retired = Keyring(signing=NEW)
    assert verify_verp(retired, old_token) is None


def test_forms_do_not_verify_as_each_other() -> None:
    """A VERP token is not a valid header value and a header value is not a valid VERP token."""
    assert verify_header(RING, verp()) is None
    assert verify_verp(RING, header_value(RING, SHORT)) is None


def test_reference_is_bound_to_its_recipient() -> None:
    """The recipient digest matches the address in any case and no other address."""
    found = verify_verp(RING, verp())
    assert found is not None
    assert matches_recipient(RING, found, "JANE.DOE@example.COM")
    assert matches_recipient(RING, found, "<jane.doe@example.com>")
    assert not matches_recipient(RING, found, "john.doe@example.com")
    assert not matches_recipient(RING, found, "not an address")
    assert not matches_recipient(Keyring(signing=OLD), found, "jane.doe@example.com")


def test_recipient_digest_is_keyed() -> None:
    """The same recipient gets different digests under different keys."""
    a = verify_verp(RING, verp(ring=Keyring(signing=OLD)))
    b = verify_verp(RING, verp(ring=RING))
    assert a is not None
    assert b is not None
    assert a.recipient_digest != b.recipient_digest


def test_same_reference_gives_same_tag() -> None:
    """Signing is deterministic, so two copies of one reference are recognisably one."""
    assert verp() == verp()
    assert verp() != verp(Reference(client="c123", campaign="42", recipient="x@example.com"))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (Reference(client="c" * 65, recipient="a@example.com"), "over the limit of 64"),
        (Reference(client="", recipient="a@example.com"), "client is required"),
        (Reference(client="acme corp", recipient="a@example.com"), "visible ASCII"),
        (Reference(client="acmé", recipient="a@example.com"), "visible ASCII"),
        (Reference(client="c", campaign="x\n", recipient="a@example.com"), "campaign"),
        (Reference(client="c", sending_ip="203.0.113.300", recipient="a@b.c"), "not an IP"),
        (Reference(client="c", recipient="nobody"), "not an address"),
        (Reference(client="c", recipient="a b@example.com"), "not an address"),
        (Reference(client="c", message_id="m" * 201, recipient="a@example.com"), "message id"),
    ],
)
def test_invalid_references_raise_signing_error(reference: Reference, message: str) -> None:
    """Bad ids, addresses and IPs are refused with a message that names the problem."""
    with pytest.raises(SigningError, match=message):
        header_value(RING, reference)


def test_verp_too_long_raises() -> None:
    """A reference that does not fit a 64-octet local part is refused, never truncated."""
    reference = Reference(client="c" * 30, campaign="k" * 20, recipient="a@example.com")
    assert verify_header(RING, header_value(RING, reference)) is not None
    with pytest.raises(SigningError, match="RFC 5321"):
        verp_local_part(RING, reference, prefix="bounce+")


def test_bad_verp_prefix_or_domain_raise() -> None:
    """A prefix with '@' or a domain with spaces is refused."""
    with pytest.raises(SigningError, match="prefix"):
        verp_local_part(RING, SHORT, prefix="b@")
    with pytest.raises(SigningError, match="domain"):
        verp_address(RING, SHORT, prefix="b+", domain="bad domain")


def test_key_validation() -> None:
    """Short secrets, bad key ids and duplicate ids are refused."""
    with pytest.raises(SigningError, match="at least 16"):
        Key(key_id="k1", secret=b"short")
    with pytest.raises(SigningError, match="key id"):
        Key(key_id="k 1", secret=SECRET)
    with pytest.raises(SigningError, match="twice"):
        Keyring(signing=OLD, verifying=(Key(key_id="k1", secret=SECRET),))
    with pytest.raises(SigningError, match="base64"):
        Key.from_base64("k3", "not base64!")
    assert Key.from_base64("k3", base64.b64encode(SECRET).decode()).secret == SECRET


def test_secrets_never_show() -> None:
    """Neither reprs nor error messages contain key material."""
    ring = Keyring(signing=Key(key_id="k1", secret=SECRET))
    text = repr(ring) + str(ring) + repr(ring.signing)
    assert "k1" in text
    for form in (SECRET.decode(), SECRET.hex(), base64.b64encode(SECRET).decode(), repr(SECRET)):
        assert form not in text
    with pytest.raises(SigningError) as caught:
        Key(key_id="k1", secret=SECRET[:10])
    assert SECRET[:10].decode() not in str(caught.value)


def test_keyring_pickles() -> None:
    """A keyring survives pickling (for worker processes) and still verifies."""
    again = pickle.loads(pickle.dumps(RING))  # noqa: S301 - bytes we have just made
    assert again.key_ids == ("k2", "k1")
    assert verify_verp(again, verp()) == verify_verp(RING, verp())


@given(st.text(max_size=300))
def test_verify_never_raises(text: str) -> None:
    """Arbitrary text never raises from the verifiers and never verifies."""
    assert verify_verp(RING, text) is None
    assert verify_header(RING, text) is None
    verp_token(text, prefix="b+", domains=frozenset({"bounces.esp.example"}))


@given(st.text(alphabet=ALPHABET, min_size=20, max_size=120))
def test_well_formed_garbage_never_verifies(body: str) -> None:
    """Random tokens in the right alphabet, with the right version, do not verify."""
    assert verify_verp(RING, "1" + body) is None
    assert verify_header(RING, "1" + body) is None


@given(st.text(max_size=100))
def test_matches_recipient_never_raises(address: str) -> None:
    """Matching arbitrary text against a reference never raises."""
    found = verify_verp(RING, verp())
    assert found is not None
    if matches_recipient(RING, found, address):
        assert address.strip().strip("<>").lower() == "jane.doe@example.com"
