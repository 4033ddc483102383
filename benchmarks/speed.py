"""Parser throughput, whole process on one core, side by side with Sisimai on the same files.

    python benchmarks/speed.py [--corpus DIR] [--repeat 10] [--runs 3] [--sisimai-lib DIR ...]

Both parsers run as separate processes pinned to one core (`taskset -c 0`) over the corpus files
repeated `--repeat` times: `bounced parse --format scorer` (output to /dev/null), and Sisimai
(Debian's libsisimai-perl) through a five-line Perl driver that makes Sisimai parse every file
and counts the results. `--sisimai-lib DIR` adds another Sisimai, found under DIR (a PERL5LIB
folder), for example Debian's newest package unpacked beside the installed one:

    curl -sO http://deb.debian.org/debian/pool/main/libs/libsisimai-perl/libsisimai-perl_5.7.2-1_all.deb
    dpkg-deb -x libsisimai-perl_5.7.2-1_all.deb /opt/sisimai-5.7
    python benchmarks/speed.py --sisimai-lib /opt/sisimai-5.7/usr/share/perl5

Process start-up is included for every contender, as a user would see it. Each is
run `--runs` times, in rounds that run each once, and the best run is kept (the machine is
shared; the best run is the least disturbed one). Prints messages per second for both and the
ratio, from wall-clock time, and the CPU time (user + system) of the best runs, which a busy
machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"
SISIMAI_DRIVER = r"""
use strict; use warnings; use Sisimai;
my $records = 0;
for my $path (@ARGV) {
    # Sisimai 5 renamed make() to rise().
    my $v = Sisimai->can('rise') ? Sisimai->rise($path, 'delivered' => 1, 'vacation' => 1)
                                 : Sisimai->make($path, 'delivered' => 1, 'vacation' => 1);
    $records += scalar @$v if $v;
}
print STDERR "records: $records\n";
"""


def files_of(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix == ".eml")


def timed(command: list[str]) -> tuple[float, float]:
    """One run of `command`: its wall-clock time and its CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def report(name: str, count: int, wall: float, cpu: float) -> None:
    print(f"{name:<26} {wall:6.2f} s  {count / wall:8,.0f} messages/s   (CPU {cpu:5.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--sisimai-lib",
        type=Path,
        action="append",
        default=[],
        help="a PERL5LIB folder holding another Sisimai to compare with (repeatable)",
    )
    args = parser.parse_args()
    files = files_of(args.corpus)
    if not files:
        print(f"no .eml files under {args.corpus}", file=sys.stderr)
        return 2
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    if not pin:
        print("taskset not found: running unpinned", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bounced-speed-") as folder:
        # One folder with every file `repeat` times (hard links: no copy, same bytes).
        work = Path(folder, "mail")
        work.mkdir()
        for n in range(args.repeat):
            for i, path in enumerate(files):
                try:
                    (work / f"{n:02d}-{i:04d}.eml").hardlink_to(path)
                except OSError:
                    shutil.copyfile(path, work / f"{n:02d}-{i:04d}.eml")
        count = len(files) * args.repeat
        # An installed package has its bytecode compiled (pip does it); a source checkout run
        # with PYTHONDONTWRITEBYTECODE=1 would recompile every module in every run instead.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "bounced")],
            check=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
        )
        command = [*pin, sys.executable, "-m", "bounced", "parse", "--format", "scorer", str(work)]
        print(f"corpus: {len(files)} files x {args.repeat} = {count} messages, one core")
        contenders: dict[str, list[str]] = {"bounced parse:": command}
        perl = shutil.which("perl")
        peers: list[str] = []
        if perl:
            driver = Path(folder, "sisimai.pl")
            driver.write_text(SISIMAI_DRIVER)
            for lib in [None, *args.sisimai_lib]:
                version = sisimai_version(perl, lib)
                if version is None:
                    if lib is not None:
                        print(f"no Sisimai under {lib}", file=sys.stderr)
                        return 2
                    continue
                name = f"Sisimai {version}:"
                if name not in contenders:
                    include = ["-I", str(lib)] if lib is not None else []
                    contenders[name] = [*pin, perl, *include, str(driver), str(work)]
                    peers.append(name)
        # Round by round, each contender once a round: a machine that gets busier or quieter
        # during the benchmark then weighs on both alike.
        best = {name: (float("inf"), float("inf")) for name in contenders}
        for _ in range(args.runs):
            for name, argv in contenders.items():
                wall, cpu = timed(argv)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        for name, (wall, cpu) in best.items():
            report(name, count, wall, cpu)
        if not peers:
            print("Sisimai not installed (apt-get install libsisimai-perl): no comparison")
            return 0
        ours = best["bounced parse:"]
        for name in peers:
            theirs = best[name]
            print(
                f"ratio: bounced is {theirs[0] / ours[0]:.1f}x {name.rstrip(':')}"
                f" (CPU {theirs[1] / ours[1]:.1f}x) (target >= 5x)"
            )
    return 0


def sisimai_version(perl: str, lib: Path | None) -> str | None:
    """The version of the Sisimai that `perl` finds (under `lib` first, if given), or None."""
    include = ["-I", str(lib)] if lib is not None else []
    found = subprocess.run(
        [perl, *include, "-MSisimai", "-e", "print $Sisimai::VERSION"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip().lstrip("v") if found.returncode == 0 else None


if __name__ == "__main__":
    raise SystemExit(main())
