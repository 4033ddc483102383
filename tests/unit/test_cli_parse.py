"""`bounced parse`: one JSON line per file, in either format, errors as lines, quiet in a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
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


def test_a_file_over_the_size_limit_is_refused_by_its_size_unread(tmp_path: Path) -> None:
    from bounced.cli import _read_file
    from bounced.parse import Limits, ParseError
    from bounced.parse.mime import check_size

    path = tmp_path / "big.eml"
    path.write_bytes(b"x" * 101)
    with pytest.raises(ParseError) as refused:
        _read_file(str(path), Limits(max_bytes=100), check_size)
    assert refused.value.code == "too-large"
    assert "101 bytes" in str(refused.value)  # the file's own size, though none was read


def test_files_are_read_whole_across_reads(tmp_path: Path) -> None:
    from bounced.cli import _read_file
    from bounced.parse import Limits
    from bounced.parse.mime import check_size

    small, large = tmp_path / "small.eml", tmp_path / "large.eml"
    small.write_bytes(b"")
    content = bytes(range(256)) * 1000  # several reads of 64 KiB
    large.write_bytes(content)
    assert _read_file(str(small), Limits(), check_size) == b""
    assert _read_file(str(large), Limits(max_bytes=len(content)), check_size) == content


def test_a_file_that_grows_after_its_size_was_taken_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regular file is read in one call when it is as big as its size said; one that grew
    since is read on to its end."""
    import bounced.cli
    from bounced.parse import Limits
    from bounced.parse.mime import check_size

    path = tmp_path / "growing.eml"
    content = bytes(range(256)) * 1000
    path.write_bytes(content)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        status = real_fstat(fd)
        return os.stat_result((status.st_mode, *status[1:6], 10, *status[7:]))  # 10 bytes then

    monkeypatch.setattr(os, "fstat", stale_fstat)
    assert bounced.cli._read_file(str(path), Limits(), check_size) == content


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_read_across_reads_to_its_end(tmp_path: Path) -> None:
    """A pipe has no size to go by: it is read until it ends."""
    from bounced.cli import _read_file
    from bounced.parse import Limits
    from bounced.parse.mime import check_size

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    content = bytes(range(256)) * 1000  # more than a pipe holds, and several reads
    writer = threading.Thread(target=fifo.write_bytes, args=(content,))
    writer.start()
    try:
        assert _read_file(str(fifo), Limits(), check_size) == content
    finally:
        writer.join(timeout=10)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_an_unreadable_file_gets_an_error_line_and_the_run_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = str(DATA / "dsn" / "postfix-user-unknown.eml")
    # /proc/self/mem opens, but reading its first page fails (EIO), even for root.
    assert main(["parse", "--format", "scorer", "/proc/self/mem", good]) == EXIT_OK
    refused, read = _lines(capsys)
    assert refused["path"] == "/proc/self/mem"
    assert str(refused["error"]).startswith("cannot read: ")
    assert refused["recipients"] == []
    assert read["recipients"] == ["alice@recipient.example"]


def test_a_dash_reads_one_message_from_standard_input() -> None:
    message = (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "bounced", "parse", "--format", "scorer", "--root", "/", "-"],
        input=message,
        capture_output=True,
        check=True,
        timeout=60,
    )
    (line,) = [json.loads(text) for text in done.stdout.splitlines()]
    assert line["path"] == "-"
    assert line["recipients"] == ["alice@recipient.example"]


def test_a_dash_is_standard_input_even_beside_a_folder_named_so(tmp_path: Path) -> None:
    (tmp_path / "-").mkdir()
    (tmp_path / "-" / "inside.eml").write_bytes(b"not read")
    done = subprocess.run(
        [sys.executable, "-m", "bounced", "parse", "--format", "scorer", "-"],
        input=b"",
        capture_output=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    (line,) = [json.loads(text) for text in done.stdout.splitlines()]
    assert line["path"] == "-"
    assert line["error_code"] == "empty"


def test_paths_outside_the_root_are_printed_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "rootless").mkdir()  # shares the root's name as a prefix, is not under it
    message = (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
    (tmp_path / "root" / "in.eml").write_bytes(message)
    (tmp_path / "rootless" / "out.eml").write_bytes(message)
    outside = str(tmp_path / "rootless" / "out.eml")
    root = str(tmp_path / "root")
    assert main(["parse", "--format", "scorer", "--root", root, root, outside]) == EXIT_OK
    assert [line["path"] for line in _lines(capsys)] == ["in.eml", outside]
    assert main(["parse", "--format", "scorer", "--root", "/", outside]) == EXIT_OK
    assert [line["path"] for line in _lines(capsys)] == [outside.lstrip("/")]


def test_parse_starts_without_the_modules_it_does_not_need() -> None:
    """pathlib (with urllib.parse and ipaddress), shutil (with bz2 and lzma) and html (its
    table of entities) cost `bounced parse` several milliseconds of start-up, much of a
    one-message run; nothing on the way of a message that is not HTML needs them, argparse
    included."""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('pathlib', 'shutil', 'html'):\n"
        "            raise ImportError(f'{name} imported')\n"
        "for name in ('pathlib', 'shutil', 'html'):\n"
        "    sys.modules.pop(name, None)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from bounced.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    message = (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", code, "parse", "--format", "scorer", "--root", "/", "-"],
        input=message,
        capture_output=True,
        check=False,
        timeout=60,
        env={**os.environ, "BOUNCED_REGEX_CACHE": "0"},
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["recipients"] == ["alice@recipient.example"]
