"""The simulator's scorecard on fixed seeds, with the default policy: the targets of the
policy (docs/policy.md, "Simulate") hold on each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from bounced.events import PoolEvent, SuppressionEvent, ThrottleEvent
from bounced.simulate import Simulation

SEEDS = (1, 2, 3)
SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"
REQUIRED = {
    "valid_addresses_suppressed",
    "invalid_addresses_missed",
    "good_clients_demoted",
    "bad_clients_not_demoted",
    "median_seconds_to_throttle",
    "max_seconds_to_throttle",
    "median_seconds_to_full_speed_after_penalty",
    "flaps",
}


@pytest.fixture(scope="module")
def cards() -> dict[int, dict[str, Any]]:
    """`bounced simulate --seed N --format json` for each seed, two at a time."""
    out: dict[int, dict[str, Any]] = {}
    pending = list(SEEDS)
    while pending:
        batch, pending = pending[:2], pending[2:]
        runs = {
            seed: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bounced",
                    "simulate",
                    "--seed",
                    str(seed),
                    "--format",
                    "json",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for seed in batch
        }
        for seed, run in runs.items():
            stdout, stderr = run.communicate(timeout=300)
            assert run.returncode == 0, stderr.decode()[-2000:]
            out[seed] = json.loads(stdout.decode().strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_the_scorecard_meets_the_targets(cards: dict[int, dict[str, Any]], seed: int) -> None:
    """No valid address suppressed, no good client demoted, every bad grid client demoted,
    throttled within 120 s of a rate limit starting, back to full speed within twice the
    penalty, no flaps; forged bounces suppress nobody."""
    card = cards[seed]
    assert set(card) >= REQUIRED
    assert card["valid_addresses_suppressed"] == 0
    assert card["invalid_addresses_missed"] == 0
    assert card["forged_bounces_that_suppressed"] == 0
    assert card["good_clients_demoted"] == 0
    assert card["bad_clients_not_demoted"] == 0
    assert card["bad_clients_promoted"] == 0
    assert card["max_seconds_to_throttle"] is not None
    assert card["max_seconds_to_throttle"] <= 120
    assert all(e["seconds_to_full_speed"] is not None for e in card["episodes"])
    assert card["late_recoveries"] == 0
    assert card["flaps"] == 0


def test_every_kind_of_decision_happens(cards: dict[int, dict[str, Any]]) -> None:
    """The runs exercise every decision the policy makes, not only the easy ones."""
    for card in cards.values():
        assert {
            "suppress",
            "throttle",
            "pause",
            "ramp",
            "resume",
            "pool",
            "warmup",
        } <= set(card["decisions"])
        assert len(card["episodes"]) >= 5


@pytest.fixture(scope="module")
def one_day() -> Simulation:
    sim = Simulation(7, days=1)
    sim.run()
    return sim


def test_a_seed_always_gives_the_same_scorecard(one_day: Simulation) -> None:
    """Simulated time and seeded randomness: a run can be repeated exactly."""
    assert Simulation(7, days=1).run() == one_day.scorecard()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_simulated_decisions_match_their_schemas(one_day: Simulation) -> None:
    """Pool, warm-up, pause and unsuppress events, as the policy makes them, are schema-valid."""
    checks = {
        SuppressionEvent: validator("suppression.json"),
        ThrottleEvent: validator("throttle.json"),
        PoolEvent: validator("pool.json"),
    }
    seen = set()
    for _, decision in one_day.tally.decisions:
        check = checks[type(decision)]
        errors = list(check.iter_errors(orjson.loads(orjson.dumps(decision))))
        assert not errors, (decision, errors[0].message)
        seen.add(str(decision.type))
    assert {"suppress", "throttle", "pause", "warmup", "pool"} <= seen
