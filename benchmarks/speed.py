"""Parser throughput, whole process on one core, side by side with Sisimai on the same files.

    python benchmarks/speed.py [--corpus DIR] [--repeat 10] [--runs 3]

Both parsers run as separate processes pinned to one core (`taskset -c 0`) over the corpus files
repeated `--repeat` times: `bounced parse --format scorer` (output to /dev/null), and Sisimai
(Debian's libsisimai-perl) through a five-line Perl driver that makes Sisimai parse every file
and counts the results. Process start-up is included for both, as a user would see it. Each is
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
    my $v = Sisimai->make($path, 'delivered' => 1, 'vacation' => 1);
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
        command = [*pin, sys.executable, "-m", "bounced", "parse", "--format", "scorer", str(work)]
        print(f"corpus: {len(files)} files x {args.repeat} = {count} messages, one core")
        contenders: dict[str, list[str]] = {"bounced parse:": command}
        perl = shutil.which("perl")
        has_sisimai = (
            perl
            and subprocess.run(
                [perl, "-MSisimai", "-e", "1"], capture_output=True, check=False
            ).returncode
            == 0
        )
        sisimai = ""
        if has_sisimai:
            driver = Path(folder, "sisimai.pl")
            driver.write_text(SISIMAI_DRIVER)
            version = subprocess.run(
                [str(perl), "-MSisimai", "-e", "print $Sisimai::VERSION"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            sisimai = f"Sisimai {version}:"
            contenders[sisimai] = [*pin, str(perl), str(driver), str(work)]
        # Round by round, each contender once a round: a machine that gets busier or quieter
        # during the benchmark then weighs on both alike.
        best = {name: (float("inf"), float("inf")) for name in contenders}
        for _ in range(args.runs):
            for name, argv in contenders.items():
                wall, cpu = timed(argv)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        for name, (wall, cpu) in best.items():
            report(name, count, wall, cpu)
        if not sisimai:
            print("Sisimai not installed (apt-get install libsisimai-perl): no comparison")
            return 0
        ours, theirs = best["bounced parse:"], best[sisimai]
        print(
            f"ratio: bounced is {theirs[0] / ours[0]:.1f}x Sisimai (CPU {theirs[1] / ours[1]:.1f}x)"
            " (target >= 5x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
