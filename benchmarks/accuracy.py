"""Accuracy of the parser on the labelled corpus, end to end, with the corpus's own scorer.

    python benchmarks/accuracy.py [--corpus DIR] [--by module] [--list-errors N]

Runs `bounced parse --format scorer` as a separate process over the corpus folders, exactly as a
user would, then prints the figures of ``../shared/tools/score.py``. Extra arguments go to the
scorer.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"
SCORER = HERE.parent.parent / "shared" / "tools" / "score.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--scorer", type=Path, default=SCORER)
    parser.add_argument("--results", type=Path, help="keep the RESULTS file here")
    args, scorer_args = parser.parse_known_args()
    corpus: Path = args.corpus
    if not (corpus / "labels.jsonl").is_file() or not args.scorer.is_file():
        print(f"corpus or scorer not found ({corpus}, {args.scorer})", file=sys.stderr)
        return 2
    folders = [str(p) for p in sorted(corpus.iterdir()) if p.is_dir()]
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as out:
        results = Path(args.results or out.name)
    with results.open("w") as sink:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bounced",
                "parse",
                "--format",
                "scorer",
                "--root",
                str(corpus),
                *folders,
            ],
            stdout=sink,
            check=True,
        )
    completed = subprocess.run(
        [
            sys.executable,
            str(args.scorer),
            str(corpus / "labels.jsonl"),
            str(results),
            *scorer_args,
        ],
        check=False,
    )
    if not args.results:
        results.unlink(missing_ok=True)
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())
