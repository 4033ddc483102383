"""Warm-up: daily caps per IP and provider, advancing after clean days only."""

from __future__ import annotations

from bounced.events import EventType, ThrottleEvent
from bounced.model import Reason
from bounced.records import DeliveryEvent
from tests.unit.policy_support import T0, Runner, command, delivered, record

DAY = 86400
IP = "203.0.113.5"


def caps(decisions: list[object]) -> dict[str, tuple[int | None, str]]:
    return {
        d.provider: (d.daily_cap, d.evidence.rule)
        for d in decisions
        if isinstance(d, ThrottleEvent) and d.type == EventType.WARMUP
    }


def test_warmup_starts_every_configured_provider_at_the_first_cap() -> None:
    """warmup.start without a provider caps the IP toward each configured provider."""
    run = Runner()
    made = caps(run.feed([command("warmup.start", ip=IP)]))
    providers = ("gmail", "microsoft", "yahoo", "orange", "other")
    assert made == dict.fromkeys(providers, (50, "operator.warmup.start"))
    event = next(d for d in run.decisions if isinstance(d, ThrottleEvent))
    assert event.until == "2027-01-16T08:00:00.000Z"


def test_a_clean_full_day_advances_an_idle_day_holds_a_bad_day_steps_back() -> None:
    """A clean, used day earns the next cap, an unused one keeps it, blocks take a step back."""
    run = Runner()
    run.feed([command("warmup.start", ip=IP, provider="gmail")])
    run.feed(delivered(40, ip=IP, when=T0 + 3600))
    assert caps(run.tick(T0 + DAY + 60)) == {"gmail": (100, "warmup.advance")}
    assert caps(run.tick(T0 + 2 * DAY + 120)) == {"gmail": (100, "warmup.hold.underused")}
    blocked = [
        record(
            DeliveryEvent.BOUNCED,
            f"b{i}@gmail.com",
            ip=IP,
            when=T0 + 2 * DAY + 3600,
            reason=Reason.BLOCKED,
        )
        for i in range(5)
    ]
    run.feed([*blocked, *delivered(60, ip=IP, when=T0 + 2 * DAY + 3600)])
    assert caps(run.tick(T0 + 3 * DAY + 180)) == {"gmail": (50, "warmup.back.blocks")}


def test_rate_limit_replies_hold_the_cap() -> None:
    """A day with a provider pushing back keeps the cap where it is."""
    run = Runner()
    run.feed([command("warmup.start", ip=IP, provider="gmail")])
    deferred = record(
        DeliveryEvent.DEFERRED, "r@gmail.com", ip=IP, when=T0 + 60, reason=Reason.SPEEDING
    )
    run.feed([deferred, *delivered(40, ip=IP, when=T0 + 3600)])
    assert caps(run.tick(T0 + DAY + 60)) == {"gmail": (50, "warmup.hold.rate-limits")}


def test_stopping_lifts_the_caps() -> None:
    """warmup.stop ends the warm-up with an event that carries no cap."""
    run = Runner()
    run.feed([command("warmup.start", ip=IP, provider="yahoo")])
    assert caps(run.feed([command("warmup.stop", ip=IP, provider="yahoo")])) == {
        "yahoo": (None, "operator.warmup.stop")
    }
    assert run.tick(T0 + 2 * DAY) == []
