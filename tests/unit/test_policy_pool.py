"""Grid membership: first sight, demotion with minimum volume, eligibility, promotion,
cooldown, hysteresis and freezing."""

from __future__ import annotations

from dataclasses import replace

from bounced.events import PoolEvent
from bounced.model import FeedbackType, Reason
from bounced.policy.config import default_policy
from bounced.policy.pool import KIND
from bounced.records import DeliveryEvent
from tests.unit.policy_support import T0, Runner, command, delivered, record, signal

HOUR = 3600
DAY = 86400


def moves(decisions: list[object]) -> list[tuple[str, str, str]]:
    return [
        (d.from_state, d.to_state, d.evidence.rule) for d in decisions if isinstance(d, PoolEvent)
    ]


def complaints(n: int, when: float, client: str = "acme") -> list:
    return [
        signal(
            f"c{i}@gmail.com",
            Reason.FEEDBACK,
            when=when,
            client=client,
            feedback=FeedbackType.ABUSE,
        )
        for i in range(n)
    ]


def bounces(n: int, when: float, client: str = "newco") -> list:
    return [
        record(
            DeliveryEvent.BOUNCED,
            f"h{i}@gmail.com",
            when=when,
            client=client,
            reason=Reason.USERUNKNOWN,
        )
        for i in range(n)
    ]


def test_a_client_first_seen_in_the_grid_starts_there_without_an_event() -> None:
    """Mail that names the grid pool registers the client as a grid member, silently."""
    run = Runner()
    assert moves(run.feed(delivered(3, pool="grid"))) == []
    doc = run.doc(KIND, "acme")
    assert doc is not None
    assert doc["state"] == "grid"


def test_a_grid_client_over_the_complaint_limit_is_demoted_at_once() -> None:
    """Five complaints on 1,200 deliveries (0.42% > 0.3%) demote the client in that batch."""
    run = Runner()
    run.feed(delivered(1200, pool="grid"))
    [event] = [d for d in run.feed(complaints(5, T0 + 60)) if isinstance(d, PoolEvent)]
    assert (event.from_state, event.to_state) == ("grid", "demoted")
    assert (event.evidence.rule, event.evidence.window) == ("pool.demote.complaints", "24h")
    assert event.evidence.numbers["complaint_rate.volume"] == 1200
    assert len(event.evidence.signals) == 5


def test_rates_below_the_minimum_volume_do_not_act() -> None:
    """Five complaints on 500 deliveries is 1%, but 500 is too few to judge a client by."""
    run = Runner()
    run.feed(delivered(500, pool="grid"))
    assert moves(run.feed(complaints(5, T0 + 60))) == []


def test_a_good_client_stays_in_the_grid() -> None:
    """Two complaints on 1,200 deliveries (0.17%) is under the limit."""
    run = Runner()
    run.feed(delivered(1200, pool="grid"))
    assert moves(run.feed(complaints(2, T0 + 60))) == []


def eligible_client(run: Runner, *, audit: bool = True) -> None:
    if audit:
        run.feed([command("audit.pass", client="newco")], T0)
    run.feed([*delivered(1500, client="newco", when=T0 + 60), *bounces(10, T0 + 60)])


def test_a_dedicated_client_with_good_figures_and_an_audit_becomes_eligible() -> None:
    """98%+ deliverability on 1,000+ messages, few complaints, no traps, audit passed."""
    run = Runner()
    eligible_client(run)
    [move] = moves(run.tick(T0 + HOUR + 120))
    assert move == ("dedicated", "eligible", "pool.enter")
    event = next(d for d in run.decisions if isinstance(d, PoolEvent))
    assert event.evidence.numbers["deliverability"] > 0.99
    assert event.evidence.window == "7d"


def test_no_eligibility_without_a_passed_list_audit() -> None:
    """The same figures without an audit keep the client on its dedicated IP."""
    run = Runner()
    eligible_client(run, audit=False)
    assert moves(run.tick(T0 + HOUR + 120)) == []


def test_an_operator_promotes_and_demotes() -> None:
    """pool.promote moves an eligible client to the grid; pool.demote takes it out."""
    run = Runner()
    eligible_client(run)
    run.tick(T0 + HOUR + 120)
    promote = command("pool.promote", client="newco", operator="ana")
    assert moves(run.feed([promote], T0 + 2 * HOUR)) == [
        ("eligible", "grid", "operator.pool.promote")
    ]
    demote = command("pool.demote", client="newco")
    assert moves(run.feed([demote], T0 + 3 * HOUR)) == [("grid", "demoted", "operator.pool.demote")]


def test_automatic_promotion_when_configured() -> None:
    """With auto_promote, a client eligible for `auto_promote_after` joins the grid."""
    base = default_policy()
    run = Runner(replace(base, pool=replace(base.pool, auto_promote=True)))
    eligible_client(run)
    run.tick(T0 + HOUR + 120)
    now = T0 + HOUR + 120
    made = []
    while now < T0 + 2 * DAY:
        now += HOUR
        made += moves(run.tick(now))
    assert made == [("eligible", "grid", "pool.auto-promote")]


def test_a_demoted_client_waits_out_the_cooldown() -> None:
    """After a demotion, good figures do not make the client eligible for a week."""
    run = Runner()
    eligible_client(run)
    run.feed([command("pool.demote", client="newco")], T0 + 120)
    now = T0 + 120
    made = []
    while now < T0 + 7 * DAY + 2 * HOUR:
        now += HOUR
        run.feed(delivered(20, client="newco", when=now - 60))
        made += moves(run.tick(now))
    assert made[0] == ("demoted", "dedicated", "pool.cooldown-over")
    assert ("dedicated", "eligible", "pool.enter") in made[1:]


def test_an_eligible_client_leaves_only_past_the_exit_threshold() -> None:
    """Hysteresis: 97.5% keeps an eligible client eligible; 96% sends it back."""
    run = Runner()
    eligible_client(run)
    run.tick(T0 + HOUR + 120)
    run.feed(bounces(28, T0 + 2 * HOUR))  # 38 hard of 1,538 sent: 97.5%
    assert moves(run.tick(T0 + 2 * HOUR + 300)) == []
    run.feed(bounces(30, T0 + 3 * HOUR))  # 68 of 1,568: 95.7%
    assert moves(run.tick(T0 + 3 * HOUR + 300)) == [
        ("eligible", "dedicated", "pool.leave.deliverability")
    ]


def test_a_frozen_client_makes_no_automatic_move() -> None:
    """pool.freeze stops automatic demotion; an operator's demotion still acts."""
    run = Runner()
    run.feed(delivered(1200, pool="grid"))
    run.feed([command("pool.freeze", client="acme")], T0 + 30)
    assert moves(run.feed(complaints(5, T0 + 60))) == []
    assert moves(run.feed([command("pool.demote", client="acme")], T0 + 90)) == [
        ("grid", "demoted", "operator.pool.demote")
    ]
