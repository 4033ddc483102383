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

    def line_of(self, dotted: str) -> int | None:
        """The line on which a dotted key is set (best effort: table header, then key)."""
        parts = dotted.split(".")
        key = parts[-1]
        table = ".".join(parts[:-1])
        in_table = not table
        key_re = re.compile(rf"^\s*(?:\"{re.escape(key)}\"|{re.escape(key)})\s*=")
        header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
        for number, line in enumerate(self.lines, start=1):
            header = header_re.match(line)
            if header:
                in_table = header.group(1).strip() == table
                if in_table and not key:
                    return number
                continue
            if in_table and key_re.match(line):
                return number
        if table:
            return self.line_of(table) if "." in table or table else None
        return None

    def error(self, dotted: str, message: str) -> ConfigError:
        line = self.line_of(dotted)
        where = f"{self.name}:{line}" if line else self.name
        return ConfigError(f"{where}: {dotted}: {message}")


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
