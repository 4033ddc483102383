"""`bounced parse`: one JSON line per file, in either format, errors as lines, quiet in a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bounced.cli import EXIT_OK, EXIT_USAGE, main

DATA = Path(__file__).resolve().parent.parent / "data"


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_scorer_lines_for_a_folder_with_paths_under_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.eml").write_bytes(
        (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
    )
    (tmp_path / "b.eml").write_bytes(b"\x00\x01 not a message")
    assert main(["parse", "--format", "scorer", "--root", str(tmp_path), str(tmp_path)]) == EXIT_OK
    by_path = {line["path"]: line for line in _lines(capsys)}
    assert set(by_path) == {"b.eml", "sub/a.eml"}
    bounce = by_path["sub/a.eml"]
    assert bounce["recipients"] == ["alice@recipient.example"]
    assert bounce["reason"] == "userunknown"
    assert bounce["hard"] is True
    assert bounce["status"] == "5.1.1"
    details = bounce["details"]
    assert isinstance(details, list)
    assert details[0]["recipient"] == "alice@recipient.example"
    refused = by_path["b.eml"]
    assert refused["recipients"] == []
    assert refused["error_code"] == "not-a-message"
    assert refused["error"]


def test_json_lines_carry_the_report_and_the_signals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(DATA / "dsn" / "postfix-user-unknown.eml")]) == EXIT_OK
    (line,) = _lines(capsys)
    report, signals = line["report"], line["signals"]
    assert isinstance(report, dict)
    assert isinstance(signals, list)
    assert report["kind"] == "dsn"
    assert signals[0]["recipient"] == "alice@recipient.example"


def test_a_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "/nonexistent/bounce.eml"]) == EXIT_USAGE
    assert "no such file or folder" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_the_run_quietly() -> None:
    """`bounced parse FOLDER | head -1`: no traceback, exit status 0."""
    with subprocess.Popen(
        # Three times the fixtures: far more output than a pipe holds, so the writer blocks.
        [sys.executable, "-m", "bounced", "parse", "--format", "json", *[str(DATA)] * 3],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()
        child.stdout.close()
        errors = child.stderr.read()
        status = child.wait(timeout=60)
    assert json.loads(first)["path"]
    assert b"Traceback" not in errors
    assert status == EXIT_OK
