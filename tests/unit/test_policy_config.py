"""The policy file: packaged defaults, overlays, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounced.errors import ConfigError
from bounced.policy.config import DEFAULT_POLICY, load_policy, seconds


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_the_packaged_default_loads_and_every_rule_has_a_unique_id() -> None:
    """default.toml is a valid policy with the rule tables the documentation describes."""
    policy = load_policy()
    ids = [r.id for r in policy.throttle.rules]
    ids += [r.id for r in (*policy.pool.enter, *policy.pool.leave, *policy.pool.demote)]
    ids += [r.id for r in (*policy.warmup.back, *policy.warmup.hold)]
    assert len(ids) == len(set(ids))
    assert "throttle.gmail-rate-limit" in ids
    assert "pool.demote.complaints" in ids
    assert seconds(policy.pool.cooldown) == 7 * 86400


def test_every_default_rule_says_where_it_comes_from() -> None:
    """Each [[rule]] table in default.toml carries a comment: its source or its reason."""
    lines = DEFAULT_POLICY.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("[["):
            nearby = (lines[number - 1], lines[number + 1])
            assert any(n.startswith("#") for n in nearby), f"default.toml:{number + 1}"


def test_an_overlay_changes_only_what_it_sets(tmp_path: Path) -> None:
    """A file that sets one key keeps every other default, rule lists included."""
    policy = load_policy(write(tmp_path, "[pool]\nauto_promote = true\n"))
    default = load_policy()
    assert policy.pool.auto_promote is True
    assert policy.pool.demote == default.pool.demote
    assert policy.throttle == default.throttle


def test_a_bad_duration_in_the_second_rule_names_its_line(tmp_path: Path) -> None:
    """An error inside the n-th [[throttle.rules]] points at that table's key."""
    text = """
[[throttle.rules]]
id = "a"
when = [{ figure = "rate", at_least = 2 }]

[[throttle.rules]]
id = "b"
when = [{ figure = "rate", at_least = 2 }]
hold = "two hours"
"""
    with pytest.raises(ConfigError, match=r"policy\.toml:9: throttle\.rules\[1\]\.hold: must be"):
        load_policy(write(tmp_path, text))


def test_an_unknown_figure_in_a_condition_names_its_line(tmp_path: Path) -> None:
    """A condition written one per line is pointed at directly."""
    text = """[[pool.demote]]
id = "x"
window = "24h"
when = [
  { figure = "complaint_rate", above = 0.003 },
  { figure = "complaints", at_least = 3 },
]
"""
    with pytest.raises(
        ConfigError, match=r":6: pool\.demote\[0\]\.when\[1\]\.figure: unknown figure 'complaints'"
    ):
        load_policy(write(tmp_path, text))


LEAVE_TOO_EARLY = """[[pool.leave]]
id = "l"
window = "7d"
when = [{ figure = "deliverability", below = 0.99 }]
"""
ODD_WINDOW = """[[throttle.rules]]
id = "t"
window = "7m"
when = [{ figure = "rate", at_least = 1 }]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[throttle]\nrecheck = 15\n", r":2: throttle\.recheck: must be a string"),
        ("[pool]\ncooldown_days = 3\n", r":2: pool\.cooldown_days: unknown key"),
        ('[suppression]\nsoft_expiry = ["7d", "soon"]\n', r"soft_expiry\[1\]: must be a duration"),
        ('[attribution]\nunverified_global = "maybe"\n', r":2: attribution\.unverified_global"),
        ("[warmup]\nschedule = [100, 50]\n", r":2: warmup\.schedule: caps must not decrease"),
        (
            LEAVE_TOO_EARLY,
            r"pool\.leave\[0\]\.when\[0\]: leaves the pool inside the entry band",
        ),
        (ODD_WINDOW, r":3: throttle\.rules\[0\]\.window: must be a multiple of 5 minutes"),
    ],
)
def test_meaningless_settings_are_refused(tmp_path: Path, text: str, message: str) -> None:
    """Types, keys, durations, choices, orderings and hysteresis are all checked."""
    with pytest.raises(ConfigError, match=message):
        load_policy(write(tmp_path, text))
