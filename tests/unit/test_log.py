"""Log redaction: addresses never reach the logs in clear when redaction is on."""

from __future__ import annotations

from bounced.log import redact_address


def test_addresses_are_replaced_by_a_digest_and_the_domain() -> None:
    """The local part disappears; the domain stays for operations."""
    out = redact_address("550 5.1.1 <Jane.Doe@example.com>: user unknown")
    assert "Jane.Doe" not in out
    assert "@example.com>" in out
    assert out.startswith("550 5.1.1 <<redacted:")


def test_the_same_address_gives_the_same_digest_in_any_case() -> None:
    """One address can be followed through the logs of one process."""
    assert redact_address("a.b@example.org") == redact_address("A.B@example.org")
    assert redact_address("a.b@example.org") != redact_address("a.c@example.org")


def test_text_without_addresses_is_unchanged() -> None:
    """Nothing else is touched."""
    assert redact_address("queue 4Xy1Zq0abcz9 deferred") == "queue 4Xy1Zq0abcz9 deferred"
