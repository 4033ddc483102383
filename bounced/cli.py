"""The `bounced` command line.

Each subcommand imports what it needs when it runs, so that `bounced parse` starts fast and
does not load the Kafka client.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

EXIT_OK = 0
EXIT_USAGE = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bounced",
        description="Turns bounces, complaints and delivery records into sending decisions.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "parse",
        help="parse message files or folders and print one JSON line per file",
        description=(
            "Parse files (or every regular file under folders, recursively) and print one JSON "
            "line per file. A file that cannot be parsed gets a line with its error."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a message file or a folder")
    p.add_argument(
        "--format",
        choices=("json", "scorer"),
        default="json",
        help="json: the full report and its signals; scorer: the corpus scorer's RESULTS lines",
    )
    p.add_argument("--root", type=Path, help="print paths relative to this folder")

    p = sub.add_parser(
        "run",
        help="run the daemon",
        description="Consume the input topics, decide, and produce decisions until stopped "
        "(SIGTERM or SIGINT: graceful; a second one forces the exit).",
    )
    p.add_argument("--config", type=Path, help="TOML configuration file (default: defaults)")

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on an embedded broker with generated traffic",
        description="Start an embedded Kafka-compatible broker, run the daemon on a temporary "
        "SQLite store, feed it generated traffic and print what came out. Leaves nothing behind.",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--mails", type=int, default=600, help="mails sent in the scenario")
    p.add_argument("--seed", type=int, default=7)

    p = sub.add_parser(
        "check-config",
        help="validate a configuration file",
        description="Read a configuration (and the policy it names) and report the first "
        "error with its file, line and key; exit 1 if there is one.",
    )
    p.add_argument("config", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from bounced import __version__

        print(__version__)
        return EXIT_OK
    if args.command == "parse":
        return _parse_command(args, sys.stdout)
    if args.command == "run":
        return _run_command(args)
    if args.command == "demo":
        from bounced.demo import demo

        if args.mails < 1:
            parser.error("--mails must be at least 1")
        return demo(fmt=args.format, out=sys.stdout, mails=args.mails, seed=args.seed)
    if args.command == "check-config":
        return _check_config(args)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _iter_files(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for file in sorted(files):
                    candidate = Path(folder, file)
                    if candidate.is_file():
                        yield candidate
        else:
            yield path


def _parse_command(args: argparse.Namespace, out: IO[str]) -> int:
    from bounced.io.codec import dumps
    from bounced.parse import ParseError
    from bounced.pipeline import process

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"bounced parse: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    root: Path | None = args.root
    scorer = args.format == "scorer"
    write = out.write
    for path in _iter_files(args.paths):
        shown = _relative(path, root)
        record: dict[str, Any]
        try:
            raw = path.read_bytes()
            result = process(raw)
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
        write(dumps(record).decode())
        write("\n")
    return EXIT_OK


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


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

    try:
        _load(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{args.config}: ok")
    return EXIT_OK
