"""Throttling: triggers per provider, backoff, gradual recovery, hysteresis, release."""

from __future__ import annotations

from bounced.events import EventType, ThrottleEvent
from bounced.model import AttributionSource, Reason
from bounced.policy.throttle import KIND
from bounced.records import DeliveryEvent
from tests.unit.policy_support import T0, Runner, command, delivered, record, signal

MINUTE = 60
GMAIL = "ip:192.0.2.1|gmail"


def throttles(decisions: list[object]) -> list[ThrottleEvent]:
    return [d for d in decisions if isinstance(d, ThrottleEvent)]


def rate_limited(n: int, when: float, domain: str = "gmail.com") -> list:
    return [
        record(DeliveryEvent.DEFERRED, f"u{n}.{i}@{domain}", when=when + i, reason=Reason.SPEEDING)
        for i in range(n)
    ]


def states(run: Runner) -> str:
    doc = run.doc(KIND, GMAIL)
    return "" if doc is None else str(doc["state"])


def test_gmail_throttles_at_the_second_rate_limit_reply_within_an_hour() -> None:
    """One 421 4.7.28 is noise; the second within the hour throttles the IP to 10/min for 30m."""
    run = Runner()
    assert throttles(run.feed(rate_limited(1, T0))) == []
    [event] = throttles(run.feed(rate_limited(1, T0 + 20 * MINUTE)))
    assert (event.type, event.ip, event.provider, event.rate_per_minute) == (
        EventType.THROTTLE,
        "192.0.2.1",
        "gmail",
        10,
    )
    assert event.until == "2027-01-15T08:50:00.000Z"
    assert (event.evidence.rule, event.evidence.window) == ("throttle.gmail-rate-limit", "1h")
    assert event.evidence.numbers["rate"] == 2
    assert event.evidence.numbers["rate.at_least"] == 2
    assert len(event.evidence.signals) == 1
    assert throttles(run.feed(rate_limited(3, T0 + 21 * MINUTE))) == []  # held already


def test_yahoo_tss04_pauses_for_two_hours() -> None:
    """Yahoo's deferrals pause the IP toward Yahoo; a pause ends in a probe, not full speed."""
    run = Runner()
    [event] = throttles(run.feed(rate_limited(2, T0, "yahoo.com")))
    assert (event.type, event.evidence.rule, event.rate_per_minute) == (
        EventType.PAUSE,
        "pause.yahoo-tss04",
        None,
    )
    assert throttles(run.tick(T0 + 119 * MINUTE)) == []
    [probe] = throttles(run.tick(T0 + 121 * MINUTE))
    assert (probe.type, probe.rate_per_minute, probe.evidence.rule) == (
        EventType.THROTTLE,
        1,
        "throttle.probe",
    )


def test_unproven_replies_do_not_throttle() -> None:
    """Rate-limit replies in bounce messages nobody can attribute move no IP."""
    run = Runner()
    forged = [
        signal(f"x{i}@gmail.com", Reason.SPEEDING, source=AttributionSource.HEADER)
        for i in range(5)
    ]
    assert throttles(run.feed(forged)) == []


def test_recovery_backs_off_while_troubled_then_ramps_up_step_by_step() -> None:
    """A troubled re-check halves the rate, a clean one starts three ramp steps before the
    resume, never a snap back when a timer ends."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    now = T0 + 30 * MINUTE
    run.feed(rate_limited(1, now - 5 * MINUTE))
    [backoff] = throttles(run.tick(now + MINUTE))
    assert (backoff.evidence.rule, backoff.rate_per_minute) == ("throttle.backoff", 5)
    now += 16 * MINUTE
    run.feed(delivered(5, when=now - 5 * MINUTE))
    [ramp] = throttles(run.tick(now))
    assert (ramp.type, ramp.rate_per_minute) == (EventType.RAMP, 15)
    rates = []
    for _ in range(3):
        now += 11 * MINUTE
        run.feed(delivered(10, when=now - 5 * MINUTE))
        [step] = throttles(run.tick(now))
        rates.append((step.type, step.rate_per_minute))
    assert rates == [(EventType.RAMP, 45), (EventType.RAMP, 135), (EventType.RESUME, None)]
    assert states(run) == "normal"


def test_trouble_during_the_ramp_holds_again_for_longer() -> None:
    """A rate limit while ramping up is a repeated trigger: held again at a higher level."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    now = T0 + 31 * MINUTE
    run.feed(delivered(5, when=now - 6 * MINUTE))
    [ramp] = throttles(run.tick(now))
    assert ramp.type == EventType.RAMP
    [again] = throttles(run.feed(rate_limited(2, now + 2 * MINUTE)))
    assert again.type == EventType.THROTTLE
    assert again.evidence.numbers["level"] == 1
    assert again.evidence.numbers["hold_seconds"] == 3600
    assert again.rate_per_minute == 5


def test_replies_from_before_a_resume_do_not_hold_it_again() -> None:
    """After a resume, new trouble must cross the threshold by itself (hysteresis)."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    run.feed([command("throttle.release", ip="192.0.2.1", provider="gmail")], T0 + 5 * MINUTE)
    assert states(run) == "normal"
    # Counted from the bucket after the release: the replies of 08:00 are not counted again.
    assert throttles(run.feed(rate_limited(1, T0 + 11 * MINUTE))) == []
    [event] = throttles(run.feed(rate_limited(1, T0 + 12 * MINUTE)))
    assert event.type == EventType.THROTTLE


def test_a_trigger_soon_after_recovery_backs_off_exponentially() -> None:
    """Within a day of the last trouble, the next hold is twice as long and the rate halved."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    now = T0 + 31 * MINUTE
    for _ in range(4):  # first check, then three ramp steps
        run.feed(delivered(5, when=now - 6 * MINUTE))
        run.tick(now)
        now += 11 * MINUTE
    assert states(run) == "normal"
    [event] = throttles(run.feed(rate_limited(2, now)))
    assert (event.evidence.numbers["level"], event.rate_per_minute) == (1, 5)
    assert event.evidence.numbers["hold_seconds"] == 3600


def test_an_operator_releases_a_throttle() -> None:
    """throttle.release resumes at once, with the command in the evidence."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    release = command("throttle.release", ip="192.0.2.1", provider="gmail", operator="ana")
    [event] = throttles(run.feed([release], T0 + MINUTE))
    assert (event.type, event.evidence.rule) == (EventType.RESUME, "operator.throttle.release")


def test_a_burst_of_blocks_from_one_client_pauses_that_client() -> None:
    """Five blocks making a fifth of a client's attempts pause the client (and the IP)."""
    run = Runner()
    inputs = [
        record(DeliveryEvent.BOUNCED, f"b{i}@gmail.com", when=T0 + i, reason=Reason.BLOCKED)
        for i in range(6)
    ]
    events = throttles(run.feed([*inputs, *delivered(10, when=T0)]))
    assert sorted((e.subject, e.type, e.evidence.rule) for e in events) == [
        ("client", EventType.PAUSE, "pause.block-burst-client"),
        ("ip", EventType.PAUSE, "pause.block-burst-ip"),
    ]


def test_a_throttle_without_traffic_resumes_after_the_quiet_period() -> None:
    """With nothing sent to judge by, a throttle stays until `quiet_resume`, then ends."""
    run = Runner()
    run.feed(rate_limited(2, T0))
    now = T0 + 31 * MINUTE
    while now < T0 + 6 * 3600:
        assert throttles(run.tick(now)) == []
        now += 15 * MINUTE
    [event] = throttles(run.tick(now + 16 * MINUTE))
    assert (event.type, event.evidence.rule) == (EventType.RESUME, "throttle.quiet-resume")
