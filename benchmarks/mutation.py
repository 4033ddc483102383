"""The parser's contract under mutated real mail: no crash, no reader failure, no slow message.

    python benchmarks/mutation.py [--corpus DIR] [--seconds 60] [--count 200000] [--seed 1]

Takes the corpus messages and the project's fixtures, mutates them at random (flipped bytes, a
cut, a line repeated many times, lines shuffled, two messages spliced, a line folded) and
parses each. Stops at `--count` messages or after `--seconds`, whichever comes first. Prints how
many were read, refused for what reason, and the reader failures (`reader-error`: a reader
raised where it should not have; the daemon sends such input to the dead letters) and messages
slower than half a second, each with a way to reproduce it (`--seed` and the message number).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"
FIXTURES = HERE.parent / "tests" / "data"
SLOW = 0.5  # seconds


def mutate(raw: bytes, others: list[bytes], rng: random.Random) -> bytes:
    """One random mutation of a message."""
    kind = rng.randrange(6)
    if kind == 0:
        data = bytearray(raw)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 1:
        return raw[: rng.randrange(len(raw))]
    lines = raw.split(b"\n")
    at = rng.randrange(len(lines))
    if kind == 2:
        lines[at:at] = [lines[at]] * rng.randint(1, 50)
    elif kind == 3:
        rng.shuffle(lines)
    elif kind == 4:
        other = rng.choice(others)
        return raw[: rng.randrange(len(raw) + 1)] + other[rng.randrange(len(other) + 1) :]
    else:
        lines[at : at + 1] = [lines[at][:40], b"    " + lines[at][40:]]
    return b"\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=5, help="failures to print per kind")
    args = parser.parse_args()
    from bounced.errors import ParseError
    from bounced.pipeline import process

    paths = sorted(p for folder in (args.corpus, FIXTURES) for p in folder.rglob("*.eml"))
    messages = [raw for raw in (p.read_bytes() for p in paths) if raw]
    if not messages:
        print(f"no messages under {args.corpus} or {FIXTURES}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    slow: list[str] = []
    crashes: list[str] = []
    deadline = time.monotonic() + args.seconds
    done = 0
    while done < args.count and time.monotonic() < deadline:
        raw = mutate(rng.choice(messages), messages, rng)
        started = time.perf_counter()
        try:
            process(raw)
            outcomes["read"] += 1
        except ParseError as exc:
            outcomes[exc.code] += 1
            if exc.code == "reader-error":
                failures.append(f"    #{done}: {exc}")
        except Exception as exc:  # noqa: BLE001 - the contract is broken: report, go on
            outcomes["CRASH"] += 1
            crashes.append(f"    #{done}: {type(exc).__name__}: {exc}")
        took = time.perf_counter() - started
        if took > SLOW:
            slow.append(f"    #{done}: {took:.2f} s, {len(raw):,} bytes")
        done += 1
    print(f"{done:,} mutated messages from {len(messages)} originals (seed {args.seed})")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:<20} {count:9,}")
    for title, rows in (("crashes", crashes), ("reader failures", failures), ("slow", slow)):
        print(f"{title}: {len(rows)}")
        for row in rows[: args.show]:
            print(row[:300])
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
