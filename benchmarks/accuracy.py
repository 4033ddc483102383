"""Accuracy of the parser on the labelled corpus, end to end, with the corpus's own scorer.

    python benchmarks/accuracy.py [--corpus DIR] [--by module] [--list-errors N]
    python benchmarks/accuracy.py --sisimai [--sisimai-lib DIR]

Runs `bounced parse --format scorer` as a separate process over the corpus folders, exactly as a
user would, then prints the figures of ``../shared/tools/score.py``. Extra arguments go to the
scorer. With `--sisimai`, the same figures for Sisimai instead (the one Perl finds, or the one
under `--sisimai-lib`, a PERL5LIB folder: see `speed.py` for Debian's newest package), read
through a short Perl driver that writes the scorer's format.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Sisimai's reading of every .eml file under a folder, one scorer line per file.
SISIMAI_DRIVER = r"""
use strict; use warnings; use Sisimai; use JSON::PP; use File::Find;
my $root = shift @ARGV; my @files;
find(sub { push @files, $File::Find::name if /\.eml\z/ }, $root);
my $json = JSON::PP->new->canonical;
for my $path (sort @files) {
    (my $name = $path) =~ s{^\Q$root\E/?}{};
    my $facts = (Sisimai->can('rise') ? Sisimai->rise($path) : Sisimai->make($path)) || [];
    my @details;
    for my $f (@$facts) {
        my $hard = $f->can('hardbounce') ? $f->hardbounce : ($f->softbounce == 0 ? 1 : 0);
        push @details, {
            recipient => $f->recipient->address, reason => $f->reason,
            hard => ($hard ? JSON::PP::true : JSON::PP::false),
            status => $f->deliverystatus, feedbacktype => $f->feedbacktype,
        };
    }
    my $first = $details[0] || {};
    print $json->encode({
        path => $name, recipients => [map { $_->{recipient} } @details],
        reason => $first->{reason}, hard => $first->{hard}, status => $first->{status},
        feedbacktype => $first->{feedbacktype}, details => \@details,
    }), "\n";
}
"""
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"
SCORER = HERE.parent.parent / "shared" / "tools" / "score.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--scorer", type=Path, default=SCORER)
    parser.add_argument("--results", type=Path, help="keep the RESULTS file here")
    parser.add_argument("--sisimai", action="store_true", help="score Sisimai instead")
    parser.add_argument("--sisimai-lib", type=Path, help="a PERL5LIB folder holding Sisimai")
    args, scorer_args = parser.parse_known_args()
    corpus: Path = args.corpus
    if not (corpus / "labels.jsonl").is_file() or not args.scorer.is_file():
        print(f"corpus or scorer not found ({corpus}, {args.scorer})", file=sys.stderr)
        return 2
    folders = [str(p) for p in sorted(corpus.iterdir()) if p.is_dir()]
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as out:
        results = Path(args.results or out.name)
    with results.open("w") as sink:
        if args.sisimai or args.sisimai_lib:
            include = ["-I", str(args.sisimai_lib)] if args.sisimai_lib else []
            subprocess.run(
                ["perl", *include, "-e", SISIMAI_DRIVER, str(corpus)],
                stdout=sink,
                stderr=subprocess.DEVNULL,
                check=True,
            )
        else:
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
