"""Delivery records: what is accepted, what is refused and why, and their classification."""

from __future__ import annotations

import orjson
import pytest

from bounced.errors import ValidationError
from bounced.model import AttributionSource, Category, Provider, Reason
from bounced.prepare import signals_of_record
from bounced.records import DeliveryEvent, read_record


def record(**fields: object) -> bytes:
    base: dict[str, object] = {
        "event": "bounced",
        "timestamp": "2026-11-29T10:00:00Z",
        "recipient": "someone@gmail.com",
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not None})


def test_a_minimal_record_is_read() -> None:
    """event, timestamp and recipient are enough."""
    parsed = read_record(record())
    assert parsed.event is DeliveryEvent.BOUNCED
    assert parsed.timestamp == 1_795_946_400.0
    assert parsed.client is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"event": "opened"}, r"\$\.event"),
        ({"timestamp": "yesterday"}, r"\$\.timestamp"),
        ({"timestamp": "2026-11-29T10:00:00"}, r"\$\.timestamp"),  # no time zone
        ({"recipient": "nobody"}, r"\$\.recipient"),
        ({"sending_ip": "300.1.1.1"}, r"\$\.sending_ip"),
        ({"reply_code": 1000}, r"\$\.reply_code"),
        ({"enhanced_status": "5.1"}, r"\$\.enhanced_status"),
        ({"client": ""}, r"\$\.client"),
        ({"recipient": None}, r"\$\.recipient is required"),
    ],
)
def test_invalid_records_name_the_member(fields: dict[str, object], message: str) -> None:
    """Each invalid member is reported by its JSON path."""
    with pytest.raises(ValidationError, match=message):
        read_record(record(**fields))


def test_non_json_and_oversized_records_are_refused() -> None:
    """Bytes that are not a JSON object, and huge records, are validation errors."""
    with pytest.raises(ValidationError, match="not JSON"):
        read_record(b"{nope")
    with pytest.raises(ValidationError, match="not a JSON object"):
        read_record(b"[1]")
    with pytest.raises(ValidationError, match="bytes, over"):
        read_record(b" " * 70_000)


def test_a_rate_limit_deferral_becomes_a_rate_signal_with_trusted_attribution() -> None:
    """Gmail's 421 4.7.28 in the MTA log is a rate-limit signal attributed to the sender."""
    parsed = read_record(
        record(
            event="deferred",
            client="acme",
            sending_ip="192.0.2.7",
            mx_host="gmail-smtp-in.l.google.com",
            reply_code=421,
            enhanced_status="4.7.28",
            reply_text="421-4.7.28 Our system has detected an unusual rate of unsolicited mail "
            "originating from your IP address. To protect our users from spam, mail sent from "
            "your IP address has been temporarily rate limited.",
        )
    )
    (signal,) = signals_of_record(parsed)
    assert signal.category is Category.RATE
    assert signal.provider is Provider.GMAIL
    assert signal.attribution.source is AttributionSource.DELIVERY_LOG
    assert signal.attribution.verified
    assert signal.attribution.sending_ip == "192.0.2.7"


def test_a_user_unknown_bounce_becomes_a_hard_signal() -> None:
    """A 550 5.1.1 in the MTA log is a hard bounce of that address."""
    parsed = read_record(
        record(
            reply_code=550,
            enhanced_status="5.1.1",
            reply_text="550 5.1.1 <someone@gmail.com>: user unknown",
        )
    )
    (signal,) = signals_of_record(parsed)
    assert signal.reason is Reason.USERUNKNOWN
    assert signal.category is Category.HARD


def test_a_delivery_is_no_signal() -> None:
    """Delivered records only count; they carry no failure to classify."""
    assert signals_of_record(read_record(record(event="delivered"))) == ()


def test_a_rule_failure_on_a_record_is_dead_lettered_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in a classification rule turns the record into a rejection; the daemon goes on."""
    from bounced import prepare as module
    from bounced.io.ports import InRecord

    def broken(*_: object) -> object:
        raise RuntimeError("rule bug")

    monkeypatch.setattr(module, "signals_of", broken)
    item = module.prepare(
        InRecord(topic="t", partition=0, offset=1, key=None, value=record(reply_code=550)),
        module.DELIVERY,
    )
    assert item.rejection is not None
    assert item.rejection.code == "classify-error"
    assert item.signals == ()
