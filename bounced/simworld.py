"""The simulated world of `bounced simulate`: who sends to whom, and how providers answer.

Everything here is known truth, drawn from one seed: which addresses exist, which are spam traps
or abandoned mailboxes, which clients are good and which turn bad (and when), which IPs are in
the shared pool, and when each provider rate-limits or blocks which IP, and for how long. The
simulation (bounced/simulate.py) runs the real pipeline and policy against it and scores the
decisions against this truth.

Providers answer the way they do in life: Gmail and Yahoo reject unknown users during the SMTP
session (the MTA's delivery record carries the reply), corporate gateways and some providers
accept first and bounce later (a DSN comes back, signed through its VERP return path); a rate
limit defers most attempts with the provider's published wording until it ends; a block rejects
everything. Penalty lengths are drawn at or above the hold the MTA communities use for the
provider's reply (bounced/policy/default.toml): a penalty shorter than the policy's first hold
is recovered from after the hold, by design, and would say nothing about the recovery logic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bounced.traffic import BLOCK, CONTENT_BLOCK, MAILBOX_FULL, RATE_LIMIT, USER_UNKNOWN, Reply

HOUR = 3600.0
DAY = 86400.0

# Recipient domains and their share of every list, by provider.
DOMAINS: tuple[tuple[str, str, float], ...] = (
    ("gmail.com", "gmail", 0.33),
    ("outlook.com", "microsoft", 0.12),
    ("hotmail.com", "microsoft", 0.08),
    ("yahoo.com", "yahoo", 0.15),
    ("orange.fr", "orange", 0.10),
    ("corp.example", "other", 0.12),
    ("shop.example.net", "other", 0.10),
)
PROVIDER = {domain: provider for domain, provider, _ in DOMAINS}
# Who accepts first and bounces later (a DSN), and how often; the rest reject in the session.
ASYNC_BOUNCE = {"corp.example": 0.7, "shop.example.net": 0.7, "outlook.com": 0.3, "orange.fr": 0.3}
RATE_REPLY = {
    "gmail": RATE_LIMIT["gmail.com"],
    "yahoo": RATE_LIMIT["yahoo.com"],
    "microsoft": RATE_LIMIT["outlook.com"],
    "orange": RATE_LIMIT["orange.fr"],
}
BLOCK_REPLY = {"microsoft": BLOCK["outlook.com"]}
GRID_IPS = ("192.0.2.10", "192.0.2.11")


@dataclass(frozen=True, slots=True, kw_only=True)
class Quality:
    """What a list is made of, and how its recipients react."""

    invalid: float  # addresses that do not exist
    trap: float = 0.0  # spam traps
    abandoned: float = 0.002  # mailboxes full for good
    complaint: float = 0.0002  # share of deliveries the recipient reports as spam
    content_block: float = 0.0  # share of mail Microsoft refuses as spam content


GOOD = Quality(invalid=0.01)
BOUGHT = Quality(invalid=0.15, trap=0.005, abandoned=0.01, complaint=0.004)
COMPLAINED_ABOUT = Quality(invalid=0.015, complaint=0.006)
SHADY = Quality(invalid=0.08, complaint=0.004, content_block=0.25)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSpec:
    name: str
    good: bool
    grid: bool  # in the shared pool at the start
    ip: str  # its dedicated IP
    rate: float  # messages per minute in the daytime
    quality: Quality
    turns_bad_at: float | None = None  # seconds from the start
    turned: Quality | None = None
    warmup: bool = False  # a new dedicated IP, warmed up from the start
    audit: bool = False  # its list audit passed (an operator command at the start)


@dataclass(frozen=True, slots=True, kw_only=True)
class Penalty:
    """A provider rate-limiting (kind rate) or blocking (kind block) one IP for a while."""

    provider: str
    ip: str
    kind: str
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class World:
    start: float
    end: float
    clients: tuple[ClientSpec, ...]
    penalties: tuple[Penalty, ...]
    lists: dict[tuple[str, bool], list[str]]  # (client, turned bad) -> addresses
    truth: dict[str, str] = field(default_factory=dict)  # address -> valid|invalid|trap|abandoned
    forged: tuple[tuple[float, str], ...] = ()  # (when, address): forged bounces of real people

    @property
    def traps(self) -> tuple[str, ...]:
        return tuple(sorted(a for a, kind in self.truth.items() if kind == "trap"))

    def quality(self, client: ClientSpec, when: float) -> tuple[Quality, bool]:
        turned = client.turns_bad_at is not None and when >= self.start + client.turns_bad_at
        if turned and client.turned is not None:
            return client.turned, True
        return client.quality, False

    def penalty(self, ip: str, provider: str, when: float) -> Penalty | None:
        for p in self.penalties:
            if p.ip == ip and p.provider == provider and p.start <= when < p.end:
                return p
        return None

    def activity(self, when: float) -> float:
        """Share of the daytime rate at this hour of the (UTC) day."""
        hour = (when % DAY) / HOUR
        return 1.0 if 8 <= hour < 20 else 0.15


def build(seed: int, start: float, days: float) -> World:
    rng = random.Random(seed)
    u = rng.uniform
    clients = (
        ClientSpec(name="acme", good=True, grid=True, ip="198.51.100.1", rate=14, quality=GOOD),
        ClientSpec(name="globex", good=True, grid=True, ip="198.51.100.2", rate=14, quality=GOOD),
        ClientSpec(
            name="umbrella",
            good=False,
            grid=True,
            ip="198.51.100.3",
            rate=14,
            quality=GOOD,
            turns_bad_at=u(14, 30) * HOUR,
            turned=BOUGHT,
        ),
        ClientSpec(
            name="hooli",
            good=False,
            grid=True,
            ip="198.51.100.4",
            rate=14,
            quality=GOOD,
            turns_bad_at=DAY + u(0, 12) * HOUR,
            turned=COMPLAINED_ABOUT,
        ),
        ClientSpec(
            name="initech",
            good=True,
            grid=False,
            ip="203.0.113.5",
            rate=6,
            quality=Quality(invalid=0.005),
            warmup=True,
            audit=True,
        ),
        ClientSpec(
            name="vandelay",
            good=False,
            grid=False,
            ip="198.51.100.6",
            rate=6,
            quality=SHADY,
            audit=True,
        ),
    )
    grid = list(GRID_IPS)
    rng.shuffle(grid)

    def window(
        day: float, first: float, last: float, shortest: float, longest: float
    ) -> tuple[float, float]:
        begin = start + day * DAY + u(first, last) * HOUR
        return begin, begin + u(shortest, longest) * HOUR

    penalties = [
        Penalty(provider="gmail", ip=grid[0], kind="rate", **_span(window(0, 9, 14, 1, 3))),
        Penalty(provider="orange", ip=grid[1], kind="rate", **_span(window(0, 15, 18, 1, 2.5))),
        Penalty(provider="yahoo", ip=grid[1], kind="rate", **_span(window(1, 9, 13, 1.5, 4))),
        Penalty(provider="microsoft", ip=grid[0], kind="rate", **_span(window(1, 15, 18, 1, 3))),
        Penalty(provider="gmail", ip="198.51.100.6", kind="block", **_span(window(1, 9, 13, 2, 5))),
    ]
    penalties.append(
        Penalty(provider="gmail", ip=grid[1], kind="rate", **_span(window(2, 9, 14, 1, 3)))
    )
    end = start + days * DAY
    world = World(
        start=start,
        end=end,
        clients=clients,
        penalties=tuple(p for p in penalties if p.end < end - 2 * HOUR),
        lists={},
    )
    for client in clients:
        world.lists[client.name, False] = _list(
            rng, world, client.name, tag="a", size=6000, q=client.quality
        )
        if client.turned is not None:
            world.lists[client.name, True] = _list(
                rng, world, client.name, tag="b", size=6000, q=client.turned
            )
    valid = sorted(a for a, kind in world.truth.items() if kind == "valid")
    forged = rng.sample(valid, 20)
    world.forged = tuple(sorted((u(start, end - HOUR), a) for a in forged))
    return world


def _span(pair: tuple[float, float]) -> dict[str, float]:
    return {"start": pair[0], "end": pair[1]}


def _list(
    rng: random.Random, world: World, client: str, *, tag: str, size: int, q: Quality
) -> list[str]:
    domains = [d for d, _, _ in DOMAINS]
    weights = [w for _, _, w in DOMAINS]
    out = []
    for n in range(size):
        domain = rng.choices(domains, weights)[0]
        address = f"{client}.{tag}{n:05d}.{rng.randrange(10**6):06d}@{domain}"
        roll = rng.random()
        if roll < q.invalid:
            kind = "invalid"
        elif roll < q.invalid + q.trap:
            kind = "trap"
        elif roll < q.invalid + q.trap + q.abandoned:
            kind = "abandoned"
        else:
            kind = "valid"
        world.truth[address] = kind
        out.append(address)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What a provider does with one attempt."""

    event: str  # delivered | bounced | deferred
    reply: Reply | None = None
    dsn: Reply | None = None  # a bounce message that follows an accepted message
    complaint: bool = False
    retry: bool = False  # the MTA tries again later
    telling: bool = False  # the answer shows the address does not exist


def answer(
    world: World, rng: random.Random, client: ClientSpec, *, ip: str, address: str, when: float
) -> Answer:
    domain = address.rpartition("@")[2]
    provider = PROVIDER[domain]
    penalty = world.penalty(ip, provider, when)
    if penalty is not None:
        if penalty.kind == "block":
            return Answer(event="bounced", reply=BLOCK_REPLY.get(provider, BLOCK["other"]))
        if rng.random() < 0.9:
            return Answer(
                event="deferred",
                reply=RATE_REPLY.get(provider, RATE_LIMIT["gmail.com"]),
                retry=True,
            )
    quality, _ = world.quality(client, when)
    if provider == "microsoft" and quality.content_block and rng.random() < quality.content_block:
        return Answer(event="bounced", reply=CONTENT_BLOCK)
    kind = world.truth.get(address, "valid")
    if kind == "invalid":
        reply = USER_UNKNOWN.get(domain, USER_UNKNOWN["other"])
        if rng.random() < ASYNC_BOUNCE.get(domain, 0.0):
            return Answer(event="delivered", dsn=reply, telling=True)
        return Answer(event="bounced", reply=reply, telling=True)
    if kind == "abandoned":
        return Answer(event="deferred", reply=MAILBOX_FULL)
    if kind == "valid" and rng.random() < 0.003:  # a full mailbox, emptied later
        return Answer(event="deferred", reply=MAILBOX_FULL, retry=True)
    complaint = kind == "valid" and rng.random() < quality.complaint
    return Answer(event="delivered", complaint=complaint)
