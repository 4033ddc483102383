"""`bounced simulate`: the real pipeline and policy on simulated time, scored against known truth.

Theory of operation. `simworld.build` draws a world from the seed (clients good and bad, lists
with invalid addresses, traps and abandoned mailboxes, shared and dedicated IPs, providers that
rate-limit or block at known times). Every `STEP` simulated seconds the ESP's MTAs (`Mta`, which
obey every decision the policy made so far: suppressions, throttles, pauses, warm-up caps, pool
membership) send what the clients want to send; providers answer (`simworld.answer`); the answers
become the inputs the daemon would consume: delivery records, DSNs and ARF complaints signed like
real mail (bounced/traffic.py), plus forged bounces and operator commands. Those inputs go
through `Preparer` (parse, classify, attribute) and `engine.step` with the policy against a
store, committed unit by unit as the daemon does, and the timer's `tick` runs every `TICK`
seconds. Nothing sleeps and nothing touches Kafka.

The scorecard compares the decisions with the truth; `docs/policy.md` defines each figure.
"""

from __future__ import annotations

import functools
import heapq
import math
import random
import statistics
import time
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

import orjson

from bounced import engine
from bounced.attribute import AttributionConfig, attribute
from bounced.commands import CommandAction
from bounced.config import TopicsConfig
from bounced.events import Decision, EventType, PoolEvent, SuppressionEvent, ThrottleEvent
from bounced.io.ports import InRecord
from bounced.policy.config import PolicyConfig, default_policy
from bounced.policy.reputation import ReputationPolicy
from bounced.prepare import BOUNCE, COMMAND, DELIVERY, FEEDBACK, Preparer
from bounced.signing import Key, Keyring
from bounced.simworld import DAY, GRID_IPS, HOUR, PROVIDER, ClientSpec, World, answer, build
from bounced.store.memory import MemoryStore
from bounced.store.ports import Stored, UnitOfWork, WindowQuery
from bounced.traffic import VERP_DOMAIN, VERP_PREFIX, Client, Generator, Outbound

START = 1_798_761_600.0  # 2027-01-01T00:00:00Z, a Friday
STEP = 20.0  # simulated seconds per batch
TICK = 60.0  # simulated seconds between timer ticks
MAX_BATCH = 500
RETRY_AFTER = 600.0  # how long the MTA waits before retrying a deferred message
MAX_AGE = 12 * HOUR  # a message still undelivered after this long is given up
FLAP_WINDOW = HOUR  # a resume undone within this long is a flap (throttles, suppressions)
POOL_FLAP_WINDOW = DAY  # likewise for pool transitions
PROMOTE_AFTER = HOUR  # the simulated operator promotes an eligible client after this long
TOPICS = TopicsConfig()
KEYRING = Keyring(signing=Key(key_id="sim", secret=bytes(range(32))))
ATTRIBUTION = AttributionConfig(
    keyring=KEYRING, verp_domains=frozenset({VERP_DOMAIN}), verp_prefix=VERP_PREFIX
)


class SimStore(MemoryStore):
    """MemoryStore with an index of counters by bucket and of documents by due time.

    MemoryStore sums a window by scanning every bucket a subject ever had and finds due
    documents by scanning all of them: right for unit tests, too slow for thousands of
    simulated batches. The index changes nothing else: documents, compare-and-set and
    fingerprints are MemoryStore's own. The simulation never prunes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._buckets: dict[tuple[str, str], dict[int, dict[str, int]]] = {}
        self._due_at: dict[tuple[str, str], int] = {}

    def commit(self, unit: UnitOfWork) -> None:
        super().commit(unit)
        for c in unit.counters:
            metrics = self._buckets.setdefault((c.scope, c.key), {}).setdefault(c.bucket, {})
            metrics[c.metric] = metrics.get(c.metric, 0) + c.delta
        for w in unit.entities:
            if w.due_at is None:
                self._due_at.pop((w.kind, w.key), None)
            else:
                self._due_at[w.kind, w.key] = w.due_at

    def window(self, queries: Collection[WindowQuery]) -> dict[WindowQuery, dict[str, int]]:
        result: dict[WindowQuery, dict[str, int]] = {}
        for q in queries:
            buckets = self._buckets.get((q.scope, q.key), {})
            sums: dict[str, int] = {}
            for bucket in range(q.first_bucket, q.last_bucket + 1):
                for metric, value in buckets.get(bucket, {}).items():
                    sums[metric] = sums.get(metric, 0) + value
            result[q] = {m: v for m, v in sums.items() if v}
        return result

    def due(self, now: int, limit: int) -> list[tuple[str, str, Stored]]:
        ready = sorted((at, kind, key) for (kind, key), at in self._due_at.items() if at <= now)
        out: list[tuple[str, str, Stored]] = []
        for _, kind, key in ready[:limit]:
            out.extend((kind, key, doc) for doc in self.load(kind, [key]).values())
        return out


@dataclass(slots=True)
class Lane:
    """What the MTAs were told for one IP (or client) toward one provider."""

    rate: float | None = None  # messages per minute; None: full speed
    paused: bool = False
    tokens: float = 0.0
    cap: int | None = None  # warm-up: messages per day
    sent_today: int = 0

    def budget(self) -> float:
        if self.paused:
            return 0.0
        if self.rate is None:
            return math.inf
        self.tokens = min(self.tokens + self.rate * STEP / 60.0, max(1.0, self.rate))
        return math.floor(self.tokens)


@dataclass(slots=True)
class Message:
    client: ClientSpec
    address: str
    ip: str
    provider: str
    ident: str
    created: float


@dataclass(slots=True)
class Tally:
    """What happened, for the scorecard."""

    attempts: int = 0
    delivered: int = 0
    skipped_suppressed: int = 0
    capped: int = 0
    expired: int = 0
    mailed: dict[str, float] = field(default_factory=dict)  # address -> first bounce evidence
    decisions: list[tuple[float, Decision]] = field(default_factory=list)


class Simulation:
    """One seeded run. `run()` returns the scorecard."""

    def __init__(self, seed: int, *, days: float = 3.0, policy: PolicyConfig | None = None) -> None:
        self.seed = seed
        self.world: World = build(seed, START, days)
        self.rng = random.Random(seed * 7919 + 1)
        base = policy or default_policy()
        # The operator feeds the traps the ESP knows of into the policy, as a real one would.
        traps = replace(base.traps, addresses=self.world.traps)
        self.policy = ReputationPolicy(replace(base, traps=traps))
        self.store = SimStore()
        self.gen = Generator(KEYRING, seed)
        self.preparer = Preparer(
            origins={
                TOPICS.bounces: BOUNCE,
                TOPICS.complaints: FEEDBACK,
                TOPICS.deliveries: DELIVERY,
                TOPICS.commands: COMMAND,
            },
            attributor=functools.partial(attribute, config=ATTRIBUTION),
        )
        self.inbox: list[tuple[float, int, str, bytes]] = []
        self.offsets: dict[str, int] = {}
        self.sequence = 0
        self.lanes: dict[tuple[str, str, str], Lane] = {}  # (ip|client, who, provider)
        self.queues: dict[tuple[str, str], deque[Message]] = {}  # (ip, provider)
        self.retries: list[tuple[float, int, Message]] = []
        self.suppressed: set[tuple[str, str | None]] = set()  # (address, client or None)
        self.pool = {c.name: "grid" if c.grid else "dedicated" for c in self.world.clients}
        self.carry = {c.name: 0.0 for c in self.world.clients}
        self.promotions: list[tuple[float, str]] = []
        self.tally = Tally()
        self.count = 0

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        world = self.world
        for client in world.clients:
            if client.audit:
                self._command(world.start, CommandAction.AUDIT_PASS, client=client.name)
            if client.warmup:
                self._command(world.start, CommandAction.WARMUP_START, ip=client.ip)
        for when, address in world.forged:
            self._input(when, TOPICS.bounces, self.gen.forged_dsn(address, when))
        t = world.start
        next_tick = world.start
        while t < world.end:
            later = t + STEP
            self._operate(t)
            self._send(t)
            self._process(later)
            if later >= next_tick:
                self._tick(later)
                next_tick += TICK
            t = later
        return self.scorecard()

    def _input(self, when: float, topic: str, value: bytes) -> None:
        self.sequence += 1
        heapq.heappush(self.inbox, (when, self.sequence, topic, value))

    def _command(self, when: float, action: CommandAction, **fields: str) -> None:
        body = {"action": str(action), "operator": "simulated operator", **fields}
        self._input(when, TOPICS.commands, orjson.dumps(body))

    def _operate(self, t: float) -> None:
        while self.promotions and self.promotions[0][0] <= t:
            when, client = self.promotions.pop(0)
            if self.pool[client] == "eligible":
                self._command(when, CommandAction.POOL_PROMOTE, client=client, note="reviewed")

    # -- the MTAs ------------------------------------------------------------------------

    def _lane(self, kind: str, who: str, provider: str) -> Lane:
        return self.lanes.setdefault((kind, who, provider), Lane())

    def _send(self, t: float) -> None:
        world = self.world
        for client in world.clients:
            wanted = client.rate * world.activity(t) * STEP / 60.0 + self.carry[client.name]
            count = int(wanted)
            self.carry[client.name] = wanted - count
            _, turned = world.quality(client, t)
            addresses = world.lists[client.name, turned]
            for _ in range(count):
                address = self.rng.choice(addresses)
                if (address, None) in self.suppressed or (address, client.name) in self.suppressed:
                    self.tally.skipped_suppressed += 1
                    continue
                provider = PROVIDER[address.rpartition("@")[2]]
                in_grid = self.pool[client.name] == "grid"
                ip = self.rng.choice(GRID_IPS) if in_grid else client.ip
                self.count += 1
                ident = f"{self.count:08x}.{client.name}@mta.esp.example"
                message = Message(client, address, ip, provider, ident, t)
                self.queues.setdefault((ip, provider), deque()).append(message)
        while self.retries and self.retries[0][0] <= t:
            _, _, message = heapq.heappop(self.retries)
            self.queues.setdefault((message.ip, message.provider), deque()).append(message)
        budgets: dict[tuple[str, str], float] = {}  # (client, provider): this step's allowance
        for (ip, provider), queue in self.queues.items():
            if queue:
                self._release(t, ip, provider, queue, budgets)

    def _release(
        self,
        t: float,
        ip: str,
        provider: str,
        queue: deque[Message],
        budgets: dict[tuple[str, str], float],
    ) -> None:
        lane = self._lane("ip", ip, provider)
        budget = lane.budget()
        held: list[Message] = []
        while queue and budget >= 1:
            message = queue.popleft()
            if t - message.created > MAX_AGE:
                self.tally.expired += 1
                continue
            who = (message.client.name, provider)
            client_budget = budgets.get(who)
            if client_budget is None:
                client_budget = budgets[who] = self._lane("client", *who).budget()
            if client_budget < 1:
                held.append(message)
                continue
            if lane.cap is not None and lane.sent_today >= lane.cap:
                self.tally.capped += 1
                continue
            budgets[who] = client_budget - 1
            budget -= 1
            if lane.rate is not None:
                lane.tokens -= 1
            client_lane = self._lane("client", message.client.name, provider)
            if client_lane.rate is not None:
                client_lane.tokens -= 1
            lane.sent_today += 1
            self._attempt(t + self.rng.random() * STEP, message)
        queue.extendleft(reversed(held))

    def _attempt(self, when: float, m: Message) -> None:
        self.tally.attempts += 1
        result = answer(self.world, self.rng, m.client, ip=m.ip, address=m.address, when=when)
        out = Outbound(
            client=_client(m.client.name, m.ip, self.pool[m.client.name]),
            campaign="c1",
            ip=m.ip,
            recipient=m.address,
            message_id=m.ident,
            sent_at=m.created,
        )
        self._input(when, TOPICS.deliveries, self.gen.record(out, result.event, result.reply, when))
        if result.event == "delivered":
            self.tally.delivered += 1
        if result.telling or self.world.truth.get(m.address) == "trap":
            self.tally.mailed.setdefault(m.address, when)
        if result.dsn is not None:
            later = when + self.rng.uniform(120, 1800)
            self._input(later, TOPICS.bounces, self.gen.dsn(out, result.dsn, later))
        if result.complaint:
            later = when + self.rng.uniform(1800, 6 * HOUR)
            self._input(later, TOPICS.complaints, self.gen.complaint(out, later))
        if result.retry:
            self.sequence += 1
            heapq.heappush(self.retries, (when + RETRY_AFTER, self.sequence, m))

    # -- the daemon's side ---------------------------------------------------------------

    def _process(self, now: float) -> None:
        records: list[InRecord] = []
        while self.inbox and self.inbox[0][0] <= now:
            when, _, topic, value = heapq.heappop(self.inbox)
            offset = self.offsets.get(topic, 0)
            self.offsets[topic] = offset + 1
            records.append(
                InRecord(
                    topic=topic,
                    partition=0,
                    offset=offset,
                    key=None,
                    value=value,
                    timestamp_ms=int(when * 1000),
                )
            )
        for start in range(0, len(records), MAX_BATCH):
            inputs = [self.preparer(r) for r in records[start : start + MAX_BATCH]]
            self._step(inputs, now)

    def _load(self, needs: engine.Needs, prints: Sequence[str]) -> engine.Loaded:
        store = self.store
        return engine.Loaded(
            entities={kind: store.load(kind, keys) for kind, keys in needs.entities.items()},
            windows=store.window(needs.windows) if needs.windows else {},
            seen=store.seen(prints) if prints else set(),
        )

    def _step(self, inputs: list[engine.Input], now: float) -> None:
        needs = engine.needs(self.policy, inputs, now)
        loaded = self._load(needs, [i.fingerprint for i in inputs if i.fingerprint])
        step = engine.step(self.policy, inputs, loaded, now)
        self.store.commit(
            UnitOfWork(
                group="simulation",
                fingerprints=step.fingerprints,
                counters=step.counters,
                entities=step.writes,
            )
        )
        for _, _, event in step.events:
            if isinstance(event, SuppressionEvent | ThrottleEvent | PoolEvent):
                self._obey(now, event)

    def _tick(self, now: float) -> None:
        due = self.store.due(int(now), 1000)
        if not due:
            return
        loaded = self._load(self.policy.tick_needs(due, now), [])
        decided = self.policy.tick(due, loaded, now)
        self.store.commit(UnitOfWork(group="simulation", entities=decided.writes))
        for decision in decided.decisions:
            self._obey(now, decision)

    def _obey(self, now: float, d: Decision) -> None:
        """The MTAs and the campaign engine act on a decision, as they would on the topic."""
        self.tally.decisions.append((now, d))
        if isinstance(d, SuppressionEvent):
            item = (d.address, d.client if d.scope == "client" else None)
            if d.type == EventType.SUPPRESS:
                self.suppressed.add(item)
            else:
                self.suppressed.discard(item)
        elif isinstance(d, ThrottleEvent):
            who = d.ip if d.subject == "ip" else d.client
            lane = self._lane(d.subject, who or "", d.provider)
            if d.type == EventType.WARMUP:
                lane.cap, lane.sent_today = d.daily_cap, 0
            elif d.type == EventType.PAUSE:
                lane.paused, lane.rate, lane.tokens = True, None, 0.0
            elif d.type == EventType.RESUME:
                lane.paused, lane.rate = False, None
            else:
                lane.paused, lane.rate = False, float(d.rate_per_minute or 1)
        else:
            self.pool[d.client] = d.to_state
            if d.to_state == "eligible":
                self.promotions.append((now + PROMOTE_AFTER, d.client))

    # -- the scorecard -------------------------------------------------------------------

    def scorecard(self) -> dict[str, Any]:
        return score(self.world, self.tally, self.seed)


@functools.lru_cache(maxsize=64)
def _client(name: str, ip: str, pool: str) -> Client:
    return Client(name=name, ips=(ip,), pool=pool, invalid_share=0.0, complaint_share=0.0)


def score(world: World, tally: Tally, seed: int) -> dict[str, Any]:
    """The scorecard of a run (docs/policy.md, "Simulate", defines each figure)."""
    decisions = tally.decisions
    suppressed_for_good: dict[str, list[str]] = {}
    active: set[str] = set()
    for _, d in decisions:
        if isinstance(d, SuppressionEvent) and d.scope == "global":
            if d.type == EventType.SUPPRESS:
                active.add(d.address)
            else:
                active.discard(d.address)
        if isinstance(d, SuppressionEvent) and d.type == EventType.SUPPRESS:
            suppressed_for_good.setdefault(d.address, []).append(d.evidence.rule)
    # A complaint suppression of a real person is right: they asked for it.
    unasked = {
        a
        for a, rules in suppressed_for_good.items()
        if any(not r.startswith("suppress.complaint") for r in rules)
    }
    valid_suppressed = sorted(a for a in unasked if world.truth.get(a) == "valid")
    horizon = world.end - HOUR
    missed = sorted(
        a
        for a, first in tally.mailed.items()
        if world.truth.get(a) in ("invalid", "trap") and first < horizon and a not in active
    )
    demotions = [
        {"client": d.client, "at": round(at - world.start, 1), "rule": d.evidence.rule}
        for at, d in decisions
        if isinstance(d, PoolEvent) and d.to_state == "demoted"
    ]
    demoted = {d["client"] for d in demotions}
    promoted = {
        d.client
        for _, d in decisions
        if isinstance(d, PoolEvent) and d.to_state in ("eligible", "grid")
    }
    good = {c.name for c in world.clients if c.good}
    bad_in_grid = {c.name for c in world.clients if not c.good and c.grid}
    bad_dedicated = {c.name for c in world.clients if not c.good and not c.grid}
    episodes = [_episode(p, decisions, world) for p in world.penalties]
    to_throttle = [e["seconds_to_throttle"] for e in episodes if e["kind"] == "rate"]
    recoveries = [e["seconds_to_full_speed"] for e in episodes]
    counts: dict[str, int] = {}
    for _, d in decisions:
        counts[str(d.type)] = counts.get(str(d.type), 0) + 1
    forged = {a for _, a in world.forged}
    return {
        "seed": seed,
        "days": round((world.end - world.start) / DAY, 3),
        "attempts": tally.attempts,
        "delivered": tally.delivered,
        "skipped_as_suppressed": tally.skipped_suppressed,
        "held_by_warmup_caps": tally.capped,
        "valid_addresses_suppressed": len(valid_suppressed),
        "invalid_addresses_missed": len(missed),
        "forged_bounces_that_suppressed": len(forged & unasked),
        "good_clients_demoted": len(good & demoted),
        "bad_clients_not_demoted": len(bad_in_grid - demoted),
        "bad_clients_promoted": len(bad_dedicated & promoted),
        "good_clients_promoted": sorted(good & promoted),
        "median_seconds_to_throttle": _median(to_throttle),
        "max_seconds_to_throttle": _max(to_throttle),
        "median_seconds_to_full_speed_after_penalty": _median(recoveries),
        "max_seconds_to_full_speed_after_penalty": _max(recoveries),
        "late_recoveries": sum(1 for e in episodes if e["late"]),
        "flaps": _flaps(decisions),
        "decisions": dict(sorted(counts.items())),
        "bad_clients": {
            c.name: {
                "turned_bad_at": None if c.turns_bad_at is None else round(c.turns_bad_at, 1),
                "in_grid": c.grid,
            }
            for c in world.clients
            if not c.good
        },
        "demotions": demotions,
        "episodes": episodes,
    }


def _median(values: list[float | None]) -> float | None:
    """The median of the episodes that got there (the others are counted apart)."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


def _max(values: list[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None  # an episode never throttled or never recovered: no maximum to speak of
    return round(max(v for v in values if v is not None), 1)


def _episode(p: Any, decisions: list[tuple[float, Decision]], world: World) -> dict[str, Any]:
    events = [
        (at, d)
        for at, d in decisions
        if isinstance(d, ThrottleEvent)
        and d.subject == "ip"
        and d.ip == p.ip
        and d.provider == p.provider
        and d.type != EventType.WARMUP
    ]
    same = [q.start for q in world.penalties if (q.ip, q.provider) == (p.ip, p.provider)]
    following = min((at for at in same if at > p.start), default=world.end)
    holding = (EventType.THROTTLE, EventType.PAUSE)
    held = [at for at, d in events if p.start <= at < p.end and d.type in holding]
    first = held[0] if held else None
    resumes = [
        at
        for at, d in events
        if d.type == EventType.RESUME and first is not None and first <= at < following
    ]
    last = resumes[-1] if resumes else None
    again = [
        at for at, d in events if d.type in holding and last is not None and last < at < following
    ]
    full = None if last is None or again else last
    return {
        "provider": p.provider,
        "ip": p.ip,
        "kind": p.kind,
        "start": round(p.start - world.start, 1),
        "seconds": round(p.length, 1),
        "seconds_to_throttle": None if first is None else round(first - p.start, 1),
        "seconds_to_full_speed": None if full is None else round(full - p.end, 1),
        "late": full is None or full - p.start > 2 * p.length,
    }


def _flaps(decisions: list[tuple[float, Decision]]) -> int:
    """Reversals undone within a short time: resume then hold again, unsuppress then suppress,
    a pool transition then its reverse."""
    flaps = 0
    last_resume: dict[tuple[str, str | None, str], float] = {}
    last_unsuppress: dict[tuple[str, str, str | None], float] = {}
    last_move: dict[str, tuple[float, str, str]] = {}
    for at, d in decisions:
        if isinstance(d, ThrottleEvent) and d.type != EventType.WARMUP:
            key = (d.subject, d.ip or d.client, d.provider)
            if d.type == EventType.RESUME:
                last_resume[key] = at
            elif (
                d.type in (EventType.THROTTLE, EventType.PAUSE)
                and key in last_resume
                and at - last_resume.pop(key) < FLAP_WINDOW
            ):
                flaps += 1
        elif isinstance(d, SuppressionEvent):
            skey = (d.address, d.scope, d.client)
            if d.type == EventType.UNSUPPRESS:
                last_unsuppress[skey] = at
            elif skey in last_unsuppress and at - last_unsuppress.pop(skey) < FLAP_WINDOW:
                flaps += 1
        elif isinstance(d, PoolEvent):
            previous = last_move.get(d.client)
            if previous and previous[2] == d.to_state and at - previous[0] < POOL_FLAP_WINDOW:
                flaps += 1
            last_move[d.client] = (at, d.to_state, d.from_state)
    return flaps


def simulate(*, seed: int, fmt: str, out: IO[str], days: float = 3.0) -> int:
    """`bounced simulate`: print the scorecard (text), or end with one JSON line (json)."""
    started = time.monotonic()
    card = Simulation(seed, days=days).run()
    if fmt == "json":
        out.write(orjson.dumps(card).decode() + "\n")
        return 0
    _print(card, out, time.monotonic() - started)
    return 0


def _print(card: dict[str, Any], out: IO[str], seconds: float) -> None:
    w = out.write
    w(f"bounced simulate: seed {card['seed']}, {card['days']} simulated days ({seconds:.1f} s)\n\n")
    w(f"Attempts:             {card['attempts']} ({card['delivered']} delivered)\n")
    w(f"Skipped (suppressed): {card['skipped_as_suppressed']}\n")
    w(f"Held by warm-up caps: {card['held_by_warmup_caps']}\n")
    w(
        "Decisions:            "
        + ", ".join(f"{k} {n}" for k, n in card["decisions"].items())
        + "\n\n"
    )
    for name in (
        "valid_addresses_suppressed",
        "invalid_addresses_missed",
        "forged_bounces_that_suppressed",
        "good_clients_demoted",
        "bad_clients_not_demoted",
        "bad_clients_promoted",
        "good_clients_promoted",
        "median_seconds_to_throttle",
        "max_seconds_to_throttle",
        "median_seconds_to_full_speed_after_penalty",
        "max_seconds_to_full_speed_after_penalty",
        "late_recoveries",
        "flaps",
    ):
        w(f"  {name:<45} {card[name]}\n")
    w("\nBad clients (turned bad at, demoted at):\n")
    for name, bad in card["bad_clients"].items():
        moves = [d for d in card["demotions"] if d["client"] == name]
        when = ", ".join(f"{_clock(d['at'])} ({d['rule']})" for d in moves)
        if not when:
            when = "never" if bad["in_grid"] else "never in the grid"
        turned = bad["turned_bad_at"]
        since = "from the start" if turned is None else _clock(turned)
        w(f"  {name:<10} {since:<14} {when}\n")
    w("\nProvider penalties (held after, back to full speed after the penalty's end):\n")
    for e in card["episodes"]:
        late = " LATE" if e["late"] else ""
        held = "never" if e["seconds_to_throttle"] is None else f"{e['seconds_to_throttle']:.0f} s"
        full = e["seconds_to_full_speed"]
        back = "never" if full is None else f"{full / 60:.0f} min"
        w(
            f"  {e['provider']:<10} {e['ip']:<15} {e['kind']:<6} {_clock(e['start'])}"
            f" for {e['seconds'] / 60:4.0f} min: held after {held}, full speed {back}{late}\n"
        )


def _clock(seconds: float) -> str:
    """Simulated time as "day N HH:MM" (the simulation starts at midnight UTC)."""
    day, rest = divmod(int(seconds), 86400)
    return f"day {day} {rest // 3600:02d}:{rest % 3600 // 60:02d}"
