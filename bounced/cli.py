"""The `bounced` command line.

Each subcommand imports what it needs when it runs, so that `bounced parse` starts fast and
does not load the Kafka client.
"""

from __future__ import annotations

import argparse
import gc
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from bounced.parse import Limits

EXIT_OK = 0
EXIT_USAGE = 2
STDIN = "-"  # `bounced parse -`: one message on standard input


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, of that subcommand alone.

    Setting up every subcommand (and importing what the choices of `command` need) costs
    several milliseconds, a noticeable part of the start-up of `bounced parse`.
    """
    parser = _Parser(
        prog="bounced",
        description="Turns bounces, complaints and delivery records into sending decisions.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _SUBCOMMANDS.items():
        if only is None or only == name:
            add(sub)
    return parser


Subparsers = Any  # argparse's _SubParsersAction, which it does not export


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, given the terminal's width. Left to find it, argparse imports
    shutil (and with it bz2 and lzma) for every argument added, whether help is printed or not:
    4 ms of the start-up of `bounced parse`. The width is found as shutil finds it: $COLUMNS,
    else the terminal of standard output, else 80 columns."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_width() - 2)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose help is laid out by `_Formatter`, as are its subcommands'
    (argparse makes them of the parser's own class)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)


def _terminal_width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        columns = os.get_terminal_size(stdout.fileno()).columns if stdout is not None else 0
    except (ValueError, OSError):  # closed, or not a terminal
        columns = 0
    return columns or 80


def _path(value: str) -> Path:
    """An argument that names a file (pathlib imported only by the commands that need it)."""
    from pathlib import Path

    return Path(value)


def _add_parse(sub: Subparsers) -> None:
    p = sub.add_parser(
        "parse",
        help="parse message files or folders and print one JSON line per file",
        description=(
            "Parse files (or every regular file under folders, recursively) and print one JSON "
            "line per file; - reads one message from standard input. A file that cannot be "
            "parsed gets a line with its error."
        ),
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="a message file, a folder, or - for standard input"
    )
    p.add_argument(
        "--format",
        choices=("json", "scorer"),
        default="json",
        help="json: the full report and its signals; scorer: the corpus scorer's RESULTS lines",
    )
    p.add_argument("--root", help="print paths relative to this folder")


def _add_run(sub: Subparsers) -> None:
    p = sub.add_parser(
        "run",
        help="run the daemon",
        description="Consume the input topics, decide, and produce decisions until stopped "
        "(SIGTERM or SIGINT: graceful; a second one forces the exit).",
    )
    p.add_argument("--config", type=_path, help="TOML configuration file (default: defaults)")


def _add_demo(sub: Subparsers) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on an embedded broker with generated traffic",
        description="Start an embedded Kafka-compatible broker, run the daemon on a temporary "
        "SQLite store, feed it generated traffic and print what came out. Leaves nothing behind.",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--mails", type=int, default=600, help="mails sent in the scenario")
    p.add_argument("--seed", type=int, default=7)


def _add_check_config(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check-config",
        help="validate a configuration file and its policy file",
        description="Read a configuration (and the policy file it names, relative to it), or a "
        "policy file alone (--policy), and report the first error with its file, line and key; "
        "exit 1 if there is one.",
    )
    p.add_argument("config", type=_path, nargs="?")
    p.add_argument("--policy", type=_path, help="a policy file to check (laid over the default)")


def _add_explain(sub: Subparsers) -> None:
    p = sub.add_parser(
        "explain",
        help="why a decision fired: rule, window, numbers and the signals behind it",
        description="Read a stored decision (or signal) by id from the configured store, with "
        "the signal events its evidence names.",
    )
    p.add_argument("event_id", metavar="EVENT_ID")
    p.add_argument("--config", type=_path, help="TOML configuration file (default: defaults)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _add_simulate(sub: Subparsers) -> None:
    p = sub.add_parser(
        "simulate",
        help="run the real pipeline and policy on simulated traffic and print a scorecard",
        description="Simulate a few days of an ESP (good and bad clients, shared and dedicated "
        "IPs, providers that rate-limit or block at known times, invalid addresses, traps, "
        "forged bounces) through the real pipeline and the default policy, on simulated time, "
        "and score the decisions against the known truth. json: one JSON line.",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--days", type=float, default=3.0, help="simulated days (at least 1)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _add_command(sub: Subparsers) -> None:
    p = sub.add_parser(
        "command",
        help="send an operator command to the daemons (the command topic)",
        description="Build an operator command, check it, and produce it to the configured "
        "command topic; every instance applies it in order. Actions: "
        + ", ".join(_actions())
        + ".",
    )
    p.add_argument("action", metavar="ACTION", choices=_actions())
    for name in ("client", "address", "ip", "provider", "operator", "note"):
        p.add_argument(f"--{name}")
    p.add_argument("--config", type=_path, help="TOML configuration file (default: defaults)")
    p.add_argument("--dry-run", action="store_true", help="print the command, send nothing")


_SUBCOMMANDS = {
    "parse": _add_parse,
    "run": _add_run,
    "demo": _add_demo,
    "check-config": _add_check_config,
    "explain": _add_explain,
    "simulate": _add_simulate,
    "command": _add_command,
}


def _actions() -> list[str]:
    from bounced.commands import CommandAction

    return [a.value for a in CommandAction]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = _build_parser(command if command in _SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if args.version:
        from importlib.machinery import EXTENSION_SUFFIXES

        from bounced import __version__, parse

        # A compiled build's parser is an extension module (docs/compiled.md); a pure one is
        # a source or bytecode file.
        compiled = (parse.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
        build = "compiled" if compiled else "pure Python"
        print(f"{__version__} ({build})")
        return EXIT_OK
    if args.command == "parse":
        try:
            return _parse_command(args, sys.stdout)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, like any filter. Standard output
            # goes to /dev/null so that the interpreter's own flush at exit does not fail too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_OK
    if args.command == "run":
        return _run_command(args)
    if args.command == "demo":
        from bounced.demo import demo

        if args.mails < 1:
            parser.error("--mails must be at least 1")
        return demo(fmt=args.format, out=sys.stdout, mails=args.mails, seed=args.seed)
    if args.command == "check-config":
        if args.config is None and args.policy is None:
            parser.error("check-config needs a configuration file or --policy FILE")
        return _check_config(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "simulate":
        from bounced.simulate import simulate

        if args.days < 1:
            parser.error("--days must be at least 1")
        return simulate(seed=args.seed, fmt=args.format, out=sys.stdout, days=args.days)
    if args.command == "command":
        return _command(args)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _iter_files(paths: Sequence[str]) -> Iterator[str]:
    """Each file named, and every regular file under each folder named (sorted, depth first)."""
    for name in paths:
        if name != STDIN and os.path.isdir(name):
            yield from _files_under(name)
        else:
            yield name


def _files_under(folder: str) -> Iterator[str]:
    # os.scandir rather than os.walk and Path objects: its entries know their type without
    # another stat, which counts when thousands of small files are parsed.
    with os.scandir(folder) as found:
        entries = sorted(found, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_file():
            yield entry.path
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _files_under(entry.path)


def _parse_command(args: argparse.Namespace, out: IO[str]) -> int:
    from bounced.regex_cache import RegexCache

    # Before the parser's modules compile their patterns (bounced/regex_cache.py).
    regexes = RegexCache.default()
    if regexes is not None:
        regexes.load()
    from bounced.io.codec import dumps
    from bounced.parse import DEFAULT_LIMITS, ParseError
    from bounced.parse.mime import check_size
    from bounced.pipeline import process

    # What the imports made (tables, patterns, phrase automata) lives as long as the process:
    # out of the cyclic collector's sight, no collection during the run walks it again, and
    # none at exit does (a tenth of the start-up, which is most of a one-message run).
    gc.freeze()
    missing = [p for p in args.paths if p != STDIN and not os.path.exists(p)]
    if missing:
        print(f"bounced parse: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    root = os.path.realpath(args.root) if args.root is not None else None
    scorer = args.format == "scorer"
    # JSON lines go out as the UTF-8 bytes orjson makes, straight to the byte stream when the
    # text stream has one (the standard output), with no decoding and encoding again.
    binary: IO[bytes] | None = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    for path in _iter_files(args.paths):
        shown = _relative(path, root)
        record: dict[str, Any]
        try:
            result = process(_read_file(path, DEFAULT_LIMITS, check_size))
        except OSError as exc:
            record = {"path": shown, "error": f"cannot read: {exc.strerror or exc}"}
        except ParseError as exc:
            record = {"path": shown, "error": str(exc), "error_code": exc.code}
        else:
            if scorer:
                record = _scorer_record(shown, result)
            else:
                record = {"path": shown, "report": result.report, "signals": result.signals}
        if scorer and "error" in record:
            record["recipients"] = []
        if binary is not None:
            binary.write(dumps(record) + b"\n")
        else:
            out.write(dumps(record).decode() + "\n")
    if binary is not None:
        binary.flush()
    if regexes is not None:
        regexes.save()  # what this run compiled that the cache lacked
    return EXIT_OK


def _read_file(path: str, limits: Limits, check_size: Callable[[int, Limits], None]) -> bytes:
    """The bytes of a file, for a parser that takes at most `limits.max_bytes` of them.

    os.read on a descriptor: for thousands of small files a file object costs more than the
    reading. A file over the limit is turned away by its size with the parser's own
    `check_size` (given by the caller, which imports the parser once), without being read into
    memory; one that grows while read stops one byte past the limit, which the parser refuses
    too.
    """
    # Standard input is descriptor 0 (nothing has read from it; closed, the read fails).
    fd = 0 if path == STDIN else os.open(path, os.O_RDONLY)
    try:
        status = os.fstat(fd)
        check_size(status.st_size, limits)
        # A regular file is asked for one byte more than its size: a shorter read is its end,
        # with no second read to find out (one system call less a file: 8 ms of the 4,040
        # files of the speed benchmark). Pipes, and a file that grows, are read to their end.
        regular = stat.S_ISREG(status.st_mode)
        chunks: list[bytes] = []
        left = limits.max_bytes + 1
        want = min(left, status.st_size + 1) if regular else min(left, 1 << 16)
        while left > 0:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            if regular and len(chunk) < want:
                break
            want = min(left, 1 << 16)
    finally:
        if path != STDIN:
            os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _relative(path: str, root: str | None) -> str:
    """`path` relative to `root` (already resolved) when it is under it, else as given."""
    if root is not None and path != STDIN:
        real = os.path.realpath(path)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.relpath(real, root)
    return path


def _scorer_record(path: str, result: Any) -> dict[str, Any]:
    signals = result.signals
    details = [
        {
            "recipient": s.recipient,
            "reason": s.reason,
            "hard": s.hard if s.reason != "feedback" else None,
            "status": s.status,
            "feedbacktype": s.feedback_type,
        }
        for s in signals
    ]
    first = details[0] if details else {}
    feedback = result.report.feedback
    return {
        "path": path,
        "kind": result.report.kind,
        "format": result.report.format,
        "recipients": [s.recipient for s in signals],
        "reason": first.get("reason"),
        "hard": first.get("hard"),
        "status": first.get("status"),
        "feedbacktype": feedback.feedback_type if feedback else None,
        "details": details,
    }


def _load(path: Path | None) -> Any:
    from bounced.config import attribution_config, load_config

    config = load_config(path)
    attribution_config(config.attribution)  # compiles keys and networks: fails early
    return config


def _run_command(args: argparse.Namespace) -> int:
    from bounced.app import serve
    from bounced.errors import ConfigError

    try:
        config = _load(args.config)
    except ConfigError as exc:
        print(f"bounced run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return serve(config, base=args.config.parent if args.config else None)


def _check_config(args: argparse.Namespace) -> int:
    from bounced.errors import ConfigError
    from bounced.policy.config import load_policy

    try:
        if args.config is not None:
            config = _load(args.config)
            if config.policy_file and args.policy is None:
                load_policy(_path(config.policy_file))
                print(f"{config.policy_file}: ok")
            print(f"{args.config}: ok")
        if args.policy is not None:
            load_policy(args.policy)
            print(f"{args.policy}: ok")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from bounced.app import open_store
    from bounced.errors import BouncedError
    from bounced.explain import explain, render
    from bounced.io.codec import dumps

    try:
        config = _load(args.config)
        store = open_store(config.store.url, base=args.config.parent if args.config else None)
    except BouncedError as exc:
        print(f"bounced explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        found = explain(store, args.event_id.strip().lower())
    except BouncedError as exc:
        print(f"bounced explain: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if found is None:
        print(f"bounced explain: no event {args.event_id} (or it was pruned)", file=sys.stderr)
        return 1
    if args.format == "json":
        sys.stdout.write(dumps(found.as_json()).decode() + "\n")
    else:
        sys.stdout.write(render(found))
    return EXIT_OK


def _command(args: argparse.Namespace) -> int:
    import asyncio
    import uuid

    from bounced.commands import read_command
    from bounced.errors import BouncedError
    from bounced.io.codec import dumps
    from bounced.io.kafka import KafkaSink
    from bounced.store.ports import OutboxRecord

    fields = {
        name: getattr(args, name)
        for name in ("client", "address", "ip", "provider", "operator", "note")
        if getattr(args, name) is not None
    }
    fields.setdefault("operator", os.environ.get("USER", ""))
    value = dumps({"action": args.action, **fields})
    try:
        command = read_command(value)
        config = _load(args.config)
    except BouncedError as exc:
        print(f"bounced command: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(value.decode())
    if args.dry_run:
        return EXIT_OK
    key = command.client or command.address or command.ip or ""
    record = OutboxRecord(
        id=uuid.uuid4().hex, topic=config.topics.commands, key=key.encode(), value=value
    )

    async def send() -> None:
        async with KafkaSink(
            bootstrap=config.kafka.bootstrap_servers, client_id=config.kafka.client_id
        ) as sink:
            await sink.send([record])

    try:
        asyncio.run(send())
    except BouncedError as exc:
        print(f"bounced command: {exc}", file=sys.stderr)
        return 1
    print(f"sent to {config.topics.commands}")
    return EXIT_OK
