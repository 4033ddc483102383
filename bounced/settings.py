"""Typed settings from TOML: a small loader shared by the daemon config and the policy file.

A settings class is a frozen dataclass whose fields are str, int, float, bool, tuples of those,
nested settings classes, or dicts of str to those. `load_section` builds one from a TOML table,
checking every key and type, and raises `ConfigError` naming the file, the line and the dotted
key of the first problem, so that an operator can go straight to it. Environment overrides
(``PREFIX_SECTION_KEY=value``) are applied before checking, with the same type rules.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from bounced.errors import ConfigError

T = TypeVar("T")


class Source:
    """Where settings came from: a file's text, used to point at lines in error messages."""

    def __init__(self, name: str, text: str = "") -> None:
        self.name = name
        self.lines = text.splitlines()
        self._index: dict[str, int] | None = None

    def line_of(self, dotted: str) -> int | None:
        """The line that sets a dotted key such as ``throttle.rules[2].when[0].figure``, or,
        failing that, the line of the nearest enclosing key or table (best effort)."""
        if self._index is None:
            self._index = _index_lines(self.lines)
        path = dotted
        while path:
            if path in self._index:
                return self._index[path]
            path = _parent(path)
        return None

    def error(self, dotted: str, message: str) -> ConfigError:
        line = self.line_of(dotted)
        where = f"{self.name}:{line}" if line else self.name
        return ConfigError(f"{where}: {dotted}: {message}")


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE_OR_QUOTED = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"^\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=\s*(.*)$")
_ELEMENT = re.compile(r"^\s*\{")


def _parent(path: str) -> str:
    """``a.b[1].c`` -> ``a.b[1]`` -> ``a.b`` -> ``a`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]


def _key_parts(text: str) -> list[str]:
    """The parts of a dotted TOML key (``a."b.c".d`` -> a, b.c, d)."""
    parts: list[str] = []
    current = ""
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _index_lines(lines: list[str]) -> dict[str, int]:
    """Map every dotted key path a TOML text sets to its line number (1-based).

    Arrays of tables get indices (``[[throttle.rules]]`` -> ``throttle.rules[0]``, ...), and so
    do inline tables written one per line in a multi-line array (``when = [`` then ``{ ... },``).
    Multi-line strings are skipped. Good enough for error messages, not a TOML parser.
    """
    index: dict[str, int] = {}
    arrays: dict[str, int] = {}  # array-of-tables path -> elements seen
    table = ""
    inline_key: str | None = None  # inside a multi-line array of inline tables
    inline_count = 0
    in_string: str | None = None
    for number, line in enumerate(lines, start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        if inline_key is not None:
            stripped = line.split("#", 1)[0].strip()
            if _ELEMENT.match(line):
                element = f"{inline_key}[{inline_count}]"
                inline_count += 1
                index.setdefault(element, number)
                for match in re.finditer(r"([A-Za-z0-9_-]+)\s*=", stripped):
                    index.setdefault(f"{element}.{match.group(1)}", number)
            if stripped.startswith("]") or stripped.endswith("]"):
                inline_key = None
            continue
        header = _HEADER.match(line)
        if header:
            parts = _key_parts(header.group(2))
            resolved = ""
            for part in parts[:-1]:
                resolved = f"{resolved}.{part}" if resolved else part
                if resolved in arrays:
                    resolved = f"{resolved}[{arrays[resolved] - 1}]"
            resolved = f"{resolved}.{parts[-1]}" if resolved else parts[-1]
            if header.group(1) == "[[":
                count = arrays.get(resolved, 0)
                arrays[resolved] = count + 1
                index.setdefault(resolved, number)
                resolved = f"{resolved}[{count}]"
            table = resolved
            index.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        dotted = ".".join(_key_parts(key.group(1)))
        path = f"{table}.{dotted}" if table else dotted
        index.setdefault(path, number)
        value = key.group(2).split("#", 1)[0].strip()
        for quote in ('"""', "'''"):
            if value.count(quote) % 2 == 1:
                in_string = quote
        if value.startswith("[") and value.count("[") > value.count("]"):
            inline_key, inline_count = path, 0
    return index


def read_toml(path: Path) -> tuple[dict[str, Any], Source]:
    """Parse a TOML file; syntax errors become ConfigError with the parser's line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(text), Source(str(path), text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_section(cls: type[T], table: Mapping[str, Any], source: Source, prefix: str = "") -> T:
    """Build settings class `cls` from a TOML table, checking keys and types."""
    if not isinstance(table, Mapping):
        raise source.error(prefix or "(top)", "must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in table:
        if key not in known:
            choices = ", ".join(sorted(known))
            raise source.error(_join(prefix, key), f"unknown key (known keys: {choices})")
    values: dict[str, Any] = {}
    for name in known:
        if name in table:
            values[name] = _convert(hints[name], table[name], source, _join(prefix, name))
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise source.error(prefix or "(top)", str(exc)) from exc


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(hint: Any, value: Any, source: Source, dotted: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, source, dotted)
            except ConfigError as exc:
                errors.append(str(exc))
        if errors:
            raise ConfigError(errors[-1])
        raise source.error(dotted, "invalid value")
    if dataclasses.is_dataclass(hint):
        return load_section(typing.cast(type, hint), value, source, dotted)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise source.error(dotted, "must be a list")
        item = args[0] if args else Any
        return tuple(_convert(item, v, source, f"{dotted}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise source.error(dotted, "must be a table")
        value_hint = args[1] if len(args) > 1 else Any
        return {
            str(k): _convert(value_hint, v, source, _join(dotted, str(k))) for k, v in value.items()
        }
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise source.error(dotted, f"must be true or false, not {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise source.error(dotted, f"must be an integer, not {value!r}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise source.error(dotted, f"must be a number, not {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise source.error(dotted, f"must be a string, not {value!r}")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):  # StrEnum settings
        try:
            return hint(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in hint)
            raise source.error(dotted, f"must be one of {choices}, not {value!r}") from None
    raise source.error(dotted, f"unsupported setting type {hint!r}")


def apply_env(
    table: dict[str, Any], cls: type, environ: Mapping[str, str], prefix: str
) -> dict[str, Any]:
    """Overlay ``PREFIX_SECTION_KEY`` environment variables on a TOML table (scalars only).

    Values are parsed as TOML values when they can be (``10``, ``true``, ``"x"``, ``[1, 2]``),
    else taken as strings, so that ``BOUNCED_KAFKA_BOOTSTRAP_SERVERS=host:9092`` just works.
    """
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.items()}
    hints = typing.get_type_hints(cls)
    for section in dataclasses.fields(cls):
        section_cls = hints[section.name]
        if not dataclasses.is_dataclass(section_cls):
            continue
        for field in dataclasses.fields(section_cls):
            name = f"{prefix}_{section.name}_{field.name}".upper()
            if name not in environ:
                continue
            raw = environ[name]
            try:
                parsed = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                parsed = raw
            out.setdefault(section.name, {})[field.name] = parsed
    return out
