"""The regex cache of `bounced parse`: patterns come back as `re` would compile them, and a
file that is damaged, of another interpreter or out of reach changes nothing but speed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bounced import regex_cache
from bounced.regex_cache import RegexCache

pytestmark = pytest.mark.skipif(
    regex_cache._engine() is None, reason="the cache needs CPython 3.11 to 3.13's re internals"
)

DATA = Path(__file__).resolve().parent.parent / "data"
# Patterns of this test only, so that no other code has them in re's cache; groups, named
# groups, look-behinds, case folding and flags set inside the pattern all go through.
PATTERNS = [
    (r"(?P<code>[245]\d\d)[ -](?P<status>[245]\.\d{1,3}\.\d{1,3})? ?regex-cache-test", 0),
    (r"(?<![\w.])user (unknown|not found) regex-cache-test", re.IGNORECASE),
    (r"(?m)^regex-cache-test: (.{0,20})$", 0),
]
TEXTS = [
    "550 5.1.1 regex-cache-test",
    "550-regex-cache-test",
    "x.User Unknown regex-cache-test and user not found regex-cache-test",
    "a\nregex-cache-test: value\nb",
    "",
]


def _forget() -> None:
    """This test's patterns out of re's caches (Python 3.12 has a second one in front)."""
    for name in ("_cache", "_cache2"):
        cache = getattr(re, name, {})
        for pattern, flags in PATTERNS:
            cache.pop((str, pattern, flags), None)


@pytest.fixture
def clean_re() -> Iterator[None]:
    _forget()
    yield
    _forget()


def _compile_all() -> list[re.Pattern[str]]:
    return [re.compile(pattern, flags) for pattern, flags in PATTERNS]


def _behaviour(compiled: re.Pattern[str]) -> list[object]:
    matches = [[(m.span(), m.groups()) for m in compiled.finditer(text)] for text in TEXTS]
    return [compiled.pattern, compiled.flags, compiled.groups, compiled.groupindex, *matches]


def test_patterns_come_back_as_re_compiles_them(tmp_path: Path, clean_re: None) -> None:
    path = tmp_path / "cache" / "regex.bin"
    writer = RegexCache(path)
    expected = [_behaviour(compiled) for compiled in _compile_all()]
    assert writer.save()
    assert path.stat().st_mode & 0o777 == 0o600
    assert not writer.save()  # nothing new since: the file is not written again

    _forget()
    reader = RegexCache(path)
    assert reader.load() >= len(PATTERNS)
    loaded = [re._cache[(str, p, f)] for p, f in PATTERNS]  # type: ignore[attr-defined]
    assert _compile_all() == loaded  # re.compile hands out the loaded patterns
    assert [_behaviour(compiled) for compiled in loaded] == expected


def test_a_damaged_or_foreign_file_loads_nothing(tmp_path: Path, clean_re: None) -> None:
    path = tmp_path / "regex.bin"
    for content in (b"", b"\x00\xff garbage", b"[1, 2]", b'{"tag": "other", "entries": []}'):
        path.write_bytes(content)
        assert RegexCache(path).load() == 0
    assert RegexCache(tmp_path / "missing.bin").load() == 0


def test_a_damaged_entry_is_skipped_and_compiled_anew(tmp_path: Path, clean_re: None) -> None:
    path = tmp_path / "regex.bin"
    _compile_all()
    assert RegexCache(path).save()
    document = json.loads(path.read_bytes())
    _forget()
    first = next(e for e in document["entries"] if e[0] == PATTERNS[0][0])
    first[3] = [255, 255, 255]  # code the engine refuses
    document["entries"].append(["not", "an", "entry"])
    path.write_text(json.dumps(document))

    cache = RegexCache(path)
    cache.load()
    assert (str, PATTERNS[0][0], PATTERNS[0][1]) not in re._cache  # type: ignore[attr-defined]
    assert (str, PATTERNS[1][0], PATTERNS[1][1]) in re._cache  # type: ignore[attr-defined]
    compiled = re.compile(*PATTERNS[0])  # compiled as usual
    assert compiled.search("550 5.1.1 regex-cache-test")
    assert cache.save()  # and saved right this time
    again = json.loads(path.read_bytes())
    assert all(e[3] != [255, 255, 255] for e in again["entries"])


def test_a_folder_that_cannot_be_written_leaves_things_as_they_were(
    tmp_path: Path, clean_re: None
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    _compile_all()
    assert not RegexCache(blocker / "sub" / "regex.bin").save()  # a file where a folder goes


def test_the_setting_turns_it_off_or_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(regex_cache.ENV, raising=False)
    default = RegexCache.default()
    assert default is not None
    assert Path(default.path).parent == tmp_path / "bounced"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/folder")  # ignored, as the XDG rules say
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    in_home = RegexCache.default()
    assert in_home is not None
    assert Path(in_home.path).parent == tmp_path / "home" / ".cache" / "bounced"
    monkeypatch.setenv(regex_cache.ENV, "0")
    assert RegexCache.default() is None
    monkeypatch.setenv(regex_cache.ENV, str(tmp_path / "mine.bin"))
    named = RegexCache.default()
    assert named is not None
    assert named.path == str(tmp_path / "mine.bin")


def test_bounced_parse_writes_the_cache_once_and_reads_the_same_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop(regex_cache.ENV, None)
    command = [sys.executable, "-m", "bounced", "parse", "--format", "json", str(DATA)]

    def run(extra: dict[str, str]) -> bytes:
        return subprocess.run(
            command, env={**env, **extra}, capture_output=True, check=True, timeout=120
        ).stdout

    without = run({regex_cache.ENV: "0"})
    assert not (tmp_path / "bounced").exists()
    first = run({})
    (written,) = (tmp_path / "bounced").iterdir()
    stamp = written.stat().st_mtime_ns
    second = run({})
    assert without == first == second
    assert written.stat().st_mtime_ns == stamp  # nothing new the second time


def test_an_edited_module_makes_a_new_start(
    tmp_path: Path, clean_re: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    module = package / "sub" / "module.py"
    module.write_text("PATTERN = 'a'\n")
    before = regex_cache._fingerprint(package)
    (package / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"bytecode")
    assert regex_cache._fingerprint(package) == before  # bytecode does not count
    module.write_text("PATTERN = 'ab'\n")
    assert regex_cache._fingerprint(package) != before

    path = tmp_path / "regex.bin"
    _compile_all()
    assert RegexCache(path).save()
    _forget()
    monkeypatch.setattr(regex_cache, "_fingerprint", lambda _: 12345)  # as after an edit
    assert RegexCache(path).load() == 0
