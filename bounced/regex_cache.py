"""Compiled regular expressions kept from one run of `bounced parse` to the next.

Python compiles a regular expression with Python code (the `re` module's parser and compiler)
and keeps the result for the life of the process only. bounced's few hundred patterns take
about a third of the command's start-up, and start-up is most of the cost when a mail server
runs `bounced parse -` once per bounce. So the command saves the compiled form of the patterns
(the regex engine's code) in the user's cache folder, and on its next start hands that code
straight to the engine and puts the result in `re`'s own cache, where `re.compile` finds it.

Theory of operation: an entry holds what `re` would hand the engine for a pattern and its
flags, computed by `re`'s own parser and compiler, so a pattern loaded from the cache is the
pattern `re.compile` would have made. It is only used by the interpreter release and regex
engine that wrote it (both name the file, with bounced's version; an edited module makes a new
file), the engine checks the code it is given, and an entry or a file that does not load is
skipped: that pattern is then compiled as usual. Nothing here can change what a pattern
matches; at worst the cache is not used.

The cache is the user's own (`$XDG_CACHE_HOME/bounced`, else `~/.cache/bounced`); whoever can
write there can already change what the user runs. `BOUNCED_REGEX_CACHE=0` turns it off, and
`BOUNCED_REGEX_CACHE=FILE` names the file. It needs CPython's `re` internals as of 3.11 to 3.13
and is off elsewhere. The daemon does not use it: it starts once.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zlib
from functools import cache
from typing import Any

import orjson

from bounced import __version__

ENV = "BOUNCED_REGEX_CACHE"
# Bounds on what is read and written: a file this big or with this many entries is not ours.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 2048

# pattern, flags as given, flags as compiled, code, groups, group index, index group: a JSON
# array (JSON, not pickle or marshal, so that reading a damaged file is only a parse error).
Entry = list[Any]
Key = tuple[type, str, int]


@cache
def _engine() -> Any:
    """The regex engine module when this interpreter's `re` is the one this module knows
    (looked at once: the interpreter does not change)."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13):
        return None
    try:
        engine = importlib.import_module("_sre")
    except ImportError:
        return None
    known = (
        isinstance(getattr(re, "_cache", None), dict)
        and isinstance(getattr(re, "_MAXCACHE", None), int)
        and hasattr(getattr(re, "_parser", None), "parse")
        and hasattr(getattr(re, "_compiler", None), "_code")
        and hasattr(engine, "compile")
    )
    return engine if known else None


class RegexCache:
    """The cache file of this interpreter and this version of bounced (module docstring)."""

    __slots__ = ("_entries", "_loaded", "_stamp", "path")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # A string, not a pathlib.Path: pathlib (with the urllib.parse and ipaddress modules it
        # imports) would add 4 ms to the start-up of `bounced parse`, which is what this saves.
        self.path = os.fspath(path)
        self._entries: dict[Key, Entry] = {}
        self._loaded: set[Key] = set()
        self._stamp = ""

    @classmethod
    def default(cls) -> RegexCache | None:
        """The cache file `BOUNCED_REGEX_CACHE` names, else the one in the user's cache
        folder; None when it is turned off or this interpreter's `re` is not one it knows."""
        engine = _engine()
        setting = os.environ.get(ENV, "").strip()
        if engine is None or setting.lower() in ("0", "off", "no", "false"):
            return None
        if setting and setting.lower() not in ("1", "on", "yes", "true"):
            return cls(setting)
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # unset, or relative: the XDG rules say to ignore it
            base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None  # no home folder to speak of
        tag = f"{sys.implementation.cache_tag}-{engine.MAGIC}-{__version__}"
        return cls(os.path.join(base, "bounced", f"regex-{tag}.bin"))

    def load(self) -> int:
        """Put the saved patterns in `re`'s cache; how many. A file that is missing, too big,
        of another interpreter or damaged loads nothing, and a damaged entry is skipped."""
        engine = _engine()
        if engine is None:
            return 0
        try:
            with open(self.path, "rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
            document = orjson.loads(data) if len(data) <= MAX_FILE_BYTES else None
        except (OSError, orjson.JSONDecodeError):
            return 0
        if not (
            isinstance(document, dict)
            and document.get("tag") == self._tag(engine)
            and isinstance(document.get("entries"), list)
        ):
            return 0
        cache: dict[Key, Any] = re._cache  # type: ignore[attr-defined]
        room = min(MAX_ENTRIES, re._MAXCACHE - len(cache))  # type: ignore[attr-defined]
        for item in document["entries"][:MAX_ENTRIES]:
            key = self._put(engine, cache, item, room > len(self._loaded))
            if key is not None:
                self._entries[key] = item  # saved again as it is, unless it fails to load
        return len(self._loaded)

    def save(self) -> bool:
        """Save the patterns in `re`'s cache, when some were compiled since `load`; True when
        the file was written. The file is replaced whole (written aside, then renamed), and a
        folder that cannot be written leaves things as they were."""
        engine = _engine()
        if engine is None:
            return False
        cache: dict[Key, Any] = re._cache  # type: ignore[attr-defined]
        fresh = [
            key
            for key in list(cache)
            if key[0] is str and key not in self._entries and isinstance(key[2], int)
        ]
        if not fresh:
            return False
        for key in fresh:
            entry = _entry(key[1], key[2])
            if entry is not None:
                self._entries[key] = entry
        entries = list(self._entries.values())[:MAX_ENTRIES]
        data = orjson.dumps({"tag": self._tag(engine), "entries": entries})
        if len(data) > MAX_FILE_BYTES:
            return False
        folder, name = os.path.split(self.path)
        temporary = os.path.join(folder, f".{name}.{os.getpid()}")
        try:
            if folder:
                os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            return False
        return True

    def _put(self, engine: Any, cache: dict[Key, Any], item: Any, room: bool) -> Key | None:
        """Compile one entry into `re`'s cache if it has room and lacks the pattern; the
        entry's key, or None when it does not load (the engine refuses code that is not valid,
        or the entry is not one)."""
        try:
            pattern, flags, compiled_flags, code, groups, groupindex, indexgroup = item
            if not isinstance(pattern, str) or not isinstance(flags, int):
                return None
            key: Key = (str, pattern, flags)
            if room and key not in cache:
                cache[key] = engine.compile(
                    pattern, compiled_flags, code, groups, groupindex, tuple(indexgroup)
                )
                self._loaded.add(key)
        except Exception:  # noqa: BLE001 - the pattern is then compiled as usual
            return None
        return key

    def _tag(self, engine: Any) -> str:
        """What a file must have been written by: this interpreter and regex engine, and this
        bounced, down to its files (an edited source makes a new start, so that the patterns
        it no longer has do not stay in the file)."""
        if not self._stamp:
            self._stamp = (
                f"{sys.implementation.cache_tag} {engine.MAGIC} {engine.CODESIZE} {__version__} "
                f"{_fingerprint(os.path.dirname(__file__)):08x}"
            )
        return self._stamp


def _fingerprint(package: str) -> int:
    """A checksum of the names, sizes and modification times of a package's modules."""
    listing: list[str] = []
    folders = [package]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith((".py", ".so", ".pyd")):
                    info = entry.stat()
                    listing.append(f"{entry.path} {info.st_size} {info.st_mtime_ns}")
    return zlib.crc32("\n".join(sorted(listing)).encode())


def _entry(pattern: str, flags: int) -> Entry | None:
    """What `re` hands the engine for a pattern, as `re._compiler.compile` computes it."""
    try:
        parsed = re._parser.parse(pattern, flags)  # type: ignore[attr-defined]
        code = re._compiler._code(parsed, flags)  # type: ignore[attr-defined]
        state = parsed.state
        groupindex = dict(state.groupdict)
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        return [
            pattern,
            flags,
            flags | state.flags,
            list(code),
            state.groups - 1,
            groupindex,
            indexgroup,
        ]
    except Exception:  # noqa: BLE001 - a pattern that cannot be redone is not saved
        return None
