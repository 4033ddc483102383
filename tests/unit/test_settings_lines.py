"""Error locations in TOML settings: keys inside arrays of tables and inline tables."""

from __future__ import annotations

from bounced.settings import Source

TEXT = """# a policy
[pool]
auto_promote = true

[[throttle.rules]]
id = "first"
when = [
  { figure = "rate", at_least = 2 },
  { figure = "block_rate", above = 0.2 },
]

[[throttle.rules]]
id = "second"
note = \"\"\"
window = "not a key"
\"\"\"
window = "1h"

[[throttle.rules.when]]
figure = "block"

[kafka]
"group.id" = "g"
"""


def test_keys_in_the_nth_array_table_get_their_own_line() -> None:
    """The second [[throttle.rules]] table's key is found in that table, not the first."""
    source = Source("p.toml", TEXT)
    assert source.line_of("throttle.rules[0].id") == 6
    assert source.line_of("throttle.rules[1].id") == 13
    assert source.line_of("throttle.rules[1].window") == 17


def test_inline_tables_one_per_line_are_indexed() -> None:
    """A condition written as an inline table on its own line is pointed at directly."""
    source = Source("p.toml", TEXT)
    assert source.line_of("throttle.rules[0].when[1].above") == 9
    assert source.line_of("throttle.rules[1].when[0].figure") == 20


def test_unknown_paths_fall_back_to_the_nearest_known_parent() -> None:
    """A key that is not in the file is reported at its table (or nowhere, if none is)."""
    source = Source("p.toml", TEXT)
    assert source.line_of("pool.cooldown") == 2
    assert source.line_of("kafka.group.id") == 23
    assert source.line_of("nothing.here") is None
    error = source.error("throttle.rules[1].hold", "must be a duration")
    assert str(error) == "p.toml:12: throttle.rules[1].hold: must be a duration"
