"""Suppression rules: hard, soft with escalating expiry, complaints, traps, proof, lifting."""

from __future__ import annotations

from dataclasses import replace

from bounced.events import EventType, SuppressionEvent
from bounced.model import AttributionSource, FeedbackType, Reason
from bounced.policy.config import default_policy
from bounced.policy.suppression import KIND, suppression_key
from bounced.records import DeliveryEvent
from tests.unit.policy_support import T0, Runner, command, record, signal

DAY = 86400
NONE = AttributionSource.NONE


def suppressions(decisions: list[object]) -> list[SuppressionEvent]:
    return [d for d in decisions if isinstance(d, SuppressionEvent)]


def test_a_proven_hard_bounce_suppresses_globally_for_good() -> None:
    """A signed user-unknown bounce suppresses the address for everyone, with its evidence."""
    run = Runner()
    bounce = signal("Bob@Gmail.com", Reason.USERUNKNOWN)
    [event] = suppressions(run.feed([bounce]))
    assert (event.type, event.address, event.scope, event.expires_at) == (
        EventType.SUPPRESS,
        "bob@gmail.com",
        "global",
        None,
    )
    assert event.evidence.rule == "suppress.hard"
    assert len(event.evidence.signals) == 1
    assert run.doc(KIND, "bob@gmail.com|global") is not None  # keys start with the address
    assert suppressions(run.feed([signal("bob@gmail.com", Reason.USERUNKNOWN)])) == []


def test_an_unproven_bounce_needs_a_second_report_to_suppress() -> None:
    """A bounce without a reference is held until another, different report confirms it."""
    run = Runner()
    assert suppressions(run.feed([signal("eve@gmail.com", Reason.USERUNKNOWN, source=NONE)])) == []
    later = signal("eve@gmail.com", Reason.USERUNKNOWN, source=NONE, when=T0 + DAY)
    [event] = suppressions(run.feed([later]))
    assert event.evidence.rule == "suppress.hard.corroborated"
    assert len(event.evidence.signals) == 2
    assert event.evidence.numbers["reports"] == 2


def test_a_delivery_clears_unproven_reports() -> None:
    """A proven delivery between two forged bounces shows the address works: no suppression."""
    run = Runner()
    run.feed([signal("eve@gmail.com", Reason.USERUNKNOWN, source=NONE)])
    run.feed([record(DeliveryEvent.DELIVERED, "eve@gmail.com", when=T0 + 60)])
    again = signal("eve@gmail.com", Reason.USERUNKNOWN, source=NONE, when=T0 + 120)
    assert suppressions(run.feed([again])) == []


def test_proof_modes_ignore_and_suppress() -> None:
    """`ignore` never suppresses globally without proof; `suppress` acts on the first report."""
    base = default_policy()
    for mode, expected in (("ignore", 0), ("suppress", 1)):
        policy = replace(base, attribution=replace(base.attribution, unverified_global=mode))
        run = Runner(policy)
        decisions = run.feed([signal("eve@gmail.com", Reason.USERUNKNOWN, source=NONE)])
        assert len(suppressions(decisions)) == expected


def soft(run: Runner, n: int, when: float) -> list[SuppressionEvent]:
    return suppressions(
        run.feed(
            [
                record(
                    DeliveryEvent.DEFERRED,
                    "full@gmail.com",
                    when=when,
                    reason=Reason.MAILBOXFULL,
                    message_id=f"m{n}",
                )
            ]
        )
    )


def test_soft_bounces_suppress_after_three_messages_with_escalating_expiry() -> None:
    """Three soft-bouncing messages suppress for a week, then a month, then for good."""
    run = Runner()
    expected = (7 * DAY, 30 * DAY, None)
    now = T0
    for round_, lasting in enumerate(expected):
        made = [soft(run, 10 * round_ + n, now + n * 3600) for n in range(3)]
        assert made[0] == made[1] == []
        [event] = made[2]
        assert event.evidence.rule == "suppress.soft"
        assert len(event.evidence.signals) == 3
        now += 2 * 3600
        if lasting is None:
            assert event.expires_at is None
            break
        assert run.tick(now + lasting - 60) == []
        [expiry] = suppressions(run.tick(now + lasting + 60))
        assert (expiry.type, expiry.evidence.rule) == (EventType.UNSUPPRESS, "unsuppress.expired")
        now += lasting + 120


def test_the_same_message_twice_and_a_delivery_between_do_not_add_up() -> None:
    """A retried message counts once, and a delivery resets the count."""
    run = Runner()
    assert soft(run, 1, T0) == []
    assert soft(run, 1, T0 + 600) == []  # the MTA's retry of the same message
    assert soft(run, 2, T0 + 1200) == []
    run.feed([record(DeliveryEvent.DELIVERED, "full@gmail.com", when=T0 + 1800)])
    assert soft(run, 3, T0 + 2400) == []
    assert soft(run, 4, T0 + 3000) == []
    assert len(soft(run, 5, T0 + 3600)) == 1


def test_a_complaint_suppresses_for_its_client_only() -> None:
    """An abuse report suppresses the address for the client complained about."""
    run = Runner()
    report = signal("ann@gmail.com", Reason.FEEDBACK, feedback=FeedbackType.ABUSE)
    [event] = suppressions(run.feed([report]))
    assert (event.scope, event.client, event.evidence.rule) == (
        "client",
        "acme",
        "suppress.complaint",
    )
    assert run.doc(KIND, suppression_key("ann@gmail.com", "acme")) is not None


def test_configured_feedback_types_also_suppress_globally() -> None:
    """With abuse among `global_types`, one report suppresses for the client and globally."""
    base = default_policy()
    run = Runner(replace(base, complaints=replace(base.complaints, global_types=("abuse",))))
    report = signal("ann@gmail.com", Reason.FEEDBACK, feedback=FeedbackType.ABUSE)
    assert sorted(e.scope for e in suppressions(run.feed([report]))) == ["client", "global"]


def test_not_spam_reports_and_sender_faults_never_suppress() -> None:
    """not-spam feedback, blocks, rate limits and auth failures leave the address alone."""
    run = Runner()
    inputs = [
        signal("a@gmail.com", Reason.FEEDBACK, feedback=FeedbackType.NOT_SPAM),
        signal("b@gmail.com", Reason.BLOCKED),
        signal("c@gmail.com", Reason.SPEEDING),
        signal("d@gmail.com", Reason.AUTHFAILURE),
    ]
    assert suppressions(run.feed(inputs)) == []


def test_mail_to_a_known_trap_suppresses_and_counts_a_hit() -> None:
    """A delivery to a configured trap suppresses it and counts a trap hit for the sender."""
    base = default_policy()
    run = Runner(replace(base, traps=replace(base.traps, domains=("trap.example",))))
    step = run.compute([record(DeliveryEvent.DELIVERED, "x@sub.trap.example")], T0)
    run.commit(step)
    [event] = suppressions(run.decisions)
    assert event.evidence.rule == "suppress.trap"
    assert {(c.scope, c.metric) for c in step.counters if c.metric == "trap"} == {
        ("client", "trap"),
        ("client_provider", "trap"),
        ("ip", "trap"),
        ("ip_provider", "trap"),
    }


def test_an_operator_lifts_a_suppression() -> None:
    """suppression.lift ends an active suppression with an unsuppress event naming the command."""
    run = Runner()
    run.feed([signal("bob@gmail.com", Reason.USERUNKNOWN)])
    lift = command("suppression.lift", address="BOB@gmail.com", operator="ana", note="typo fixed")
    [event] = suppressions(run.feed([lift], T0 + 60))
    assert (event.type, event.evidence.rule) == (EventType.UNSUPPRESS, "operator.suppression.lift")
    assert event.evidence.note is not None
    assert "ana" in event.evidence.note
    assert suppressions(run.feed([command("suppression.lift", address="bob@gmail.com")])) == []
