"""The policy file: TOML -> frozen settings, checked, with errors that name file, line and key.

The packaged `default.toml` is the default policy and documents every setting with its source.
A policy file of one's own is laid over it (`load_policy`): tables merge key by key, lists (the
rule lists included) replace the default list whole. Types and unknown keys are checked by the
shared settings loader (bounced/settings.py); `_check` then checks meaning: durations, windows,
figure names, thresholds, and that entry and exit rules leave a hysteresis band.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bounced.errors import ConfigError
from bounced.model import FeedbackType, Provider
from bounced.policy.figures import COUNTS, FIGURES, RATIOS
from bounced.settings import Source, load_section, read_toml
from bounced.state.counters import BUCKET_SECONDS

DEFAULT_POLICY = Path(__file__).with_name("default.toml")
FOREVER = "forever"
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = 7 * 86400  # counters are kept a little longer (store.counter_days)


@functools.lru_cache(maxsize=256)
def seconds(text: str) -> int:
    """A duration such as "90m" in seconds (checked when the policy is loaded)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One comparison of a figure with a threshold (exactly one of above, at_least, below)."""

    figure: str
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    min_volume: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A named set of conditions over one window; it holds when all of them hold."""

    id: str
    window: str = "24h"
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleRule:
    """A trigger: conditions over a window for one kind of subject -> throttle or pause."""

    id: str
    subject: str = "ip"  # ip | client
    providers: tuple[str, ...] = ("*",)
    excluded: tuple[str, ...] = ()
    window: str = "1h"
    when: tuple[Condition, ...] = ()
    action: str = "throttle"  # throttle | pause
    hold: str = "30m"
    rate_per_minute: int = 1

    def covers(self, provider: str) -> bool:
        if provider in self.excluded:
            return False
        return "*" in self.providers or provider in self.providers


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionPolicy:
    unverified_global: str = "corroborate"  # suppress | corroborate | ignore
    corroborate_reports: int = 2
    corroborate_within: str = "14d"


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionPolicy:
    hard: bool = True
    soft_bounces: int = 3
    soft_within: str = "14d"
    soft_expiry: tuple[str, ...] = ("7d", "30d", FOREVER)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintPolicy:
    suppress_types: tuple[str, ...] = ("abuse", "fraud", "virus", "other", "opt-out")
    global_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TrapPolicy:
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    suppress: bool = True

    def is_trap(self, address: str) -> bool:
        if not self.addresses and not self.domains:  # the common case: no traps configured
            return False
        address = address.lower()
        if address in self._addresses:
            return True
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self._domains)

    @property
    def _addresses(self) -> frozenset[str]:
        return _lowered(self.addresses)

    @property
    def _domains(self) -> frozenset[str]:
        return _lowered(self.domains)


@functools.lru_cache(maxsize=16)
def _lowered(items: tuple[str, ...]) -> frozenset[str]:
    return frozenset(i.lower().strip() for i in items)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    recheck: str = "15m"
    ramp_step: str = "10m"
    ramp_steps: int = 3
    ramp_factor: float = 3.0
    backoff_factor: float = 2.0
    backoff_memory: str = "24h"
    max_hold: str = "8h"
    min_rate_per_minute: int = 1
    probe_rate_per_minute: int = 1
    clean_min_attempts: int = 3
    clean_max_rate_replies: int = 0
    clean_max_block_rate: float = 0.05
    clean_max_deferral_rate: float = 0.3
    quiet_resume: str = "6h"
    rules: tuple[ThrottleRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolPolicy:
    grid_pools: tuple[str, ...] = ("grid",)
    auto_promote: bool = False
    auto_promote_after: str = "24h"
    cooldown: str = "7d"
    evaluate_every: str = "1h"
    require_list_audit: bool = True
    enter: tuple[Rule, ...] = ()
    leave: tuple[Rule, ...] = ()
    demote: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WarmupPolicy:
    schedule: tuple[int, ...] = ()
    providers: tuple[str, ...] = ()
    min_fill: float = 0.5
    back: tuple[Rule, ...] = ()
    hold: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyConfig:
    """The whole policy. Build it with `load_policy`, which fills in the packaged defaults."""

    attribution: AttributionPolicy = field(default_factory=AttributionPolicy)
    suppression: SuppressionPolicy = field(default_factory=SuppressionPolicy)
    complaints: ComplaintPolicy = field(default_factory=ComplaintPolicy)
    traps: TrapPolicy = field(default_factory=TrapPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    pool: PoolPolicy = field(default_factory=PoolPolicy)
    warmup: WarmupPolicy = field(default_factory=WarmupPolicy)


def load_policy(path: Path | None = None) -> PolicyConfig:
    """The packaged default policy, with the file at `path` (if any) laid over it."""
    table, source = read_toml(DEFAULT_POLICY)
    if path is not None:
        own, source = read_toml(path)
        table = _merge(table, own)
    policy = load_section(PolicyConfig, table, source)
    _check(policy, source)
    return policy


@functools.lru_cache(maxsize=1)
def default_policy() -> PolicyConfig:
    """The packaged default policy (read once)."""
    return load_policy(None)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value)
        else:
            out[key] = value
    return out


# -- checks ----------------------------------------------------------------------------------

_PROVIDERS = {str(p) for p in Provider}
_FEEDBACK = {str(f) for f in FeedbackType}


def _check(policy: PolicyConfig, source: Source) -> None:
    checker = _Checker(source)
    checker.attribution(policy.attribution)
    checker.suppression(policy.suppression)
    checker.complaints(policy.complaints)
    checker.throttle(policy.throttle)
    checker.pool(policy.pool)
    checker.warmup(policy.warmup)


class _Checker:
    """Checks the meaning of a loaded policy; raises `ConfigError` at the first problem."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.ids: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        return self.source.error(key, message)

    def duration(self, key: str, text: str, *, forever: bool = False) -> int:
        if forever and text == FOREVER:
            return 0
        try:
            value = seconds(text)
        except ValueError:
            message = f'must be a duration such as "30m", "2h" or "7d", not {text!r}'
            raise self.fail(key, message) from None
        if value <= 0:
            raise self.fail(key, "must be longer than zero")
        return value

    def window(self, key: str, text: str) -> None:
        value = self.duration(key, text)
        if value % BUCKET_SECONDS or value > MAX_WINDOW:
            raise self.fail(
                key, f"must be a multiple of {BUCKET_SECONDS // 60} minutes, at most 7d"
            )

    def at_least_one(self, key: str, value: float) -> None:
        if value < 1:
            raise self.fail(key, "must be at least 1")

    def rule_id(self, key: str, ident: str) -> None:
        if not ident or ident in self.ids:
            raise self.fail(key, f"rule ids must be unique and non-empty ({ident!r})")
        self.ids.add(ident)

    def conditions(self, key: str, items: tuple[Condition, ...]) -> None:
        if not items:
            raise self.fail(key, "needs at least one condition")
        for i, c in enumerate(items):
            at = f"{key}[{i}]"
            if c.figure not in FIGURES:
                known = ", ".join(sorted(FIGURES))
                raise self.fail(f"{at}.figure", f"unknown figure {c.figure!r} ({known})")
            given = [n for n in ("above", "at_least", "below") if getattr(c, n) is not None]
            if len(given) != 1:
                raise self.fail(at, "needs exactly one of above, at_least, below")
            threshold = getattr(c, given[0])
            if c.figure in RATIOS and not 0 <= threshold <= 1:
                raise self.fail(f"{at}.{given[0]}", "a ratio threshold lies between 0 and 1")
            if c.figure in COUNTS and threshold < 0:
                raise self.fail(f"{at}.{given[0]}", "a count threshold cannot be negative")
            if c.min_volume < 0:
                raise self.fail(f"{at}.min_volume", "cannot be negative")

    def rules(self, key: str, items: tuple[Rule, ...]) -> None:
        for i, rule in enumerate(items):
            at = f"{key}[{i}]"
            self.rule_id(f"{at}.id", rule.id)
            self.window(f"{at}.window", rule.window)
            self.conditions(f"{at}.when", rule.when)

    def providers(self, key: str, names: tuple[str, ...], *, wildcard: bool) -> None:
        for j, name in enumerate(names):
            if not (wildcard and name == "*") and name not in _PROVIDERS:
                raise self.fail(f"{key}[{j}]", f"unknown provider {name!r}")

    def attribution(self, a: AttributionPolicy) -> None:
        if a.unverified_global not in ("suppress", "corroborate", "ignore"):
            raise self.fail(
                "attribution.unverified_global", "must be suppress, corroborate or ignore"
            )
        self.at_least_one("attribution.corroborate_reports", a.corroborate_reports)
        self.duration("attribution.corroborate_within", a.corroborate_within)

    def suppression(self, s: SuppressionPolicy) -> None:
        self.at_least_one("suppression.soft_bounces", s.soft_bounces)
        self.duration("suppression.soft_within", s.soft_within)
        if not s.soft_expiry:
            raise self.fail("suppression.soft_expiry", "needs at least one expiry")
        for i, text in enumerate(s.soft_expiry):
            self.duration(f"suppression.soft_expiry[{i}]", text, forever=True)

    def complaints(self, c: ComplaintPolicy) -> None:
        for name in ("suppress_types", "global_types"):
            for i, kind in enumerate(getattr(c, name)):
                if kind not in _FEEDBACK:
                    raise self.fail(f"complaints.{name}[{i}]", f"unknown feedback type {kind!r}")

    def throttle(self, t: ThrottlePolicy) -> None:
        for name in ("recheck", "ramp_step", "backoff_memory", "max_hold", "quiet_resume"):
            self.duration(f"throttle.{name}", getattr(t, name))
        if t.ramp_steps < 0:
            raise self.fail("throttle.ramp_steps", "cannot be negative")
        for name in (
            "ramp_factor",
            "backoff_factor",
            "min_rate_per_minute",
            "probe_rate_per_minute",
            "clean_min_attempts",
        ):
            self.at_least_one(f"throttle.{name}", getattr(t, name))
        for i, rule in enumerate(t.rules):
            at = f"throttle.rules[{i}]"
            self.rule_id(f"{at}.id", rule.id)
            if rule.subject not in ("ip", "client"):
                raise self.fail(f"{at}.subject", "must be ip or client")
            if rule.action not in ("throttle", "pause"):
                raise self.fail(f"{at}.action", "must be throttle or pause")
            self.providers(f"{at}.providers", rule.providers, wildcard=True)
            self.providers(f"{at}.excluded", rule.excluded, wildcard=False)
            self.window(f"{at}.window", rule.window)
            if seconds(rule.window) > 2 * 3600:
                raise self.fail(f"{at}.window", "throttle windows are at most 2h")
            self.conditions(f"{at}.when", rule.when)
            self.duration(f"{at}.hold", rule.hold)
            self.at_least_one(f"{at}.rate_per_minute", rule.rate_per_minute)

    def pool(self, o: PoolPolicy) -> None:
        for name in ("auto_promote_after", "cooldown", "evaluate_every"):
            self.duration(f"pool.{name}", getattr(o, name))
        self.rules("pool.enter", o.enter)
        self.rules("pool.leave", o.leave)
        self.rules("pool.demote", o.demote)
        _check_hysteresis(o, self.fail)

    def warmup(self, w: WarmupPolicy) -> None:
        if not w.schedule or any(cap < 1 for cap in w.schedule):
            raise self.fail("warmup.schedule", "needs at least one daily cap, each at least 1")
        if list(w.schedule) != sorted(w.schedule):
            raise self.fail("warmup.schedule", "caps must not decrease")
        self.providers("warmup.providers", w.providers, wildcard=False)
        if not 0 <= w.min_fill <= 1:
            raise self.fail("warmup.min_fill", "lies between 0 and 1")
        self.rules("warmup.back", w.back)
        self.rules("warmup.hold", w.hold)


def _check_hysteresis(pool: PoolPolicy, fail: Callable[[str, str], ConfigError]) -> None:
    """An exit threshold must not sit inside the entry band of the same figure: a client that
    just became eligible must not leave again on the same numbers."""
    entry: dict[str, tuple[str, float]] = {}
    for rule in pool.enter:
        for c in rule.when:
            if c.at_least is not None:
                entry[c.figure] = ("min", c.at_least)
            elif c.below is not None:
                entry[c.figure] = ("max", c.below)
    for i, rule in enumerate(pool.leave):
        for j, c in enumerate(rule.when):
            if c.figure not in entry:
                continue
            side, bar = entry[c.figure]
            exit_bar = c.below if side == "min" else (c.above if c.at_least is None else c.at_least)
            if exit_bar is None:
                continue
            if (side == "min" and exit_bar > bar) or (side == "max" and exit_bar < bar):
                raise fail(
                    f"pool.leave[{i}].when[{j}]",
                    f"leaves the pool inside the entry band of {c.figure} (enter at {bar})",
                )
