"""Golden files: every message under tests/data/ is parsed and compared with the JSON beside it.

A fixture ``NAME.eml`` has its expectation in ``NAME.json``: an object with any of the keys
``kind``, ``format``, ``feedback_type``, ``signals`` (a list of objects, one per recipient to act
on, each with any of ``recipient``, ``reason``, ``category``, ``action``, ``hard``, ``status``,
``reply_code``, ``provider``, ``feedback_type``, ``command``) and ``error`` (the ParseError code,
for input that must be refused). Only the keys given are compared, so a fixture states what it
is about. Run ``python -m tests.unit.test_golden NAME.eml`` to print what the parser says now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bounced.errors import ParseError
from bounced.io.codec import to_plain
from bounced.pipeline import process

DATA = Path(__file__).resolve().parent.parent / "data"
FIXTURES = sorted(p for p in DATA.rglob("*.eml"))


def observed(path: Path) -> dict[str, Any]:
    """What the parser makes of a fixture, in the shape of an expectation file."""
    try:
        result = process(path.read_bytes())
    except ParseError as exc:
        return {"error": exc.code}
    report = result.report
    return {
        "kind": str(report.kind),
        "format": report.format,
        "feedback_type": str(report.feedback.feedback_type) if report.feedback else None,
        "signals": [
            {k: v for k, v in to_plain(s).items() if k not in {"attribution", "diagnostic"}}
            for s in result.signals
        ],
    }


def _subset(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        out: list[str] = []
        for key, value in expected.items():
            out += _subset(value, actual.get(key), f"{where}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += _subset(e, a, f"{where}[{i}]")
        return out
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_golden(fixture: Path) -> None:
    """The parser's reading of each fixture matches the expectation written beside it."""
    expected = json.loads(fixture.with_suffix(".json").read_text())
    problems = _subset(expected, observed(fixture), "$")
    assert not problems, "\n".join(problems)


def _folded(raw: bytes, width: int = 50) -> bytes:
    """The message with every long line of its body folded at `width`, going on indented: how
    MTAs fold long notice lines and header fields (RFC 5322 folding), whatever their width."""
    head, blank, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines: list[bytes] = []
    for whole in body.split(b"\n"):
        rest = whole
        while len(rest) > width and b" " in rest[20:width]:
            cut = rest.rfind(b" ", 20, width)
            lines.append(rest[:cut])
            rest = b"    " + rest[cut + 1 :]
        lines.append(rest)
    return head + blank + b"\n".join(lines)


def _reading(raw: bytes) -> Any:
    try:
        result = process(raw)
    except ParseError as exc:
        return exc.code
    signals = sorted((s.recipient, s.reason, s.hard, s.status) for s in result.signals)
    return str(result.report.kind), signals


# The fixtures with a line long enough to fold.
FOLDABLE = [p for p in FIXTURES if _folded(p.read_bytes()) != p.read_bytes()]


@pytest.mark.parametrize("fixture", FOLDABLE, ids=lambda p: str(p.relative_to(DATA)))
def test_folding_long_lines_changes_nothing(fixture: Path) -> None:
    """A notice folded at another width is read the same: the same kind, and per recipient the
    same reason, hard/soft and status. Readers must not lean on where a line happens to end."""
    raw = fixture.read_bytes()
    assert _reading(_folded(raw)) == _reading(raw)


def test_every_fixture_has_an_expectation() -> None:
    """No fixture is silently skipped for want of its JSON."""
    assert FIXTURES, "no fixtures found"
    assert len(FOLDABLE) > len(FIXTURES) // 2, "folding no longer reaches most fixtures"
    missing = [str(p) for p in FIXTURES if not p.with_suffix(".json").is_file()]
    assert not missing


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(json.dumps(observed(Path(name)), indent=2, ensure_ascii=False))
