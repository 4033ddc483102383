"""Parser throughput, whole process on one core, side by side with Sisimai on the same files.

    python benchmarks/speed.py [--corpus DIR] [--repeat 10] [--runs 3] [--sisimai-lib DIR ...]
                               [--no-compiled] [--python PATH]

Both parsers run as separate processes pinned to one core (`taskset -c 0`) over the corpus files
repeated `--repeat` times: `bounced parse --format scorer` (output to /dev/null), and Sisimai
(Debian's libsisimai-perl) through a five-line Perl driver that makes Sisimai parse every file
and counts the results. `--sisimai-lib DIR` adds another Sisimai, found under DIR (a PERL5LIB
folder), for example Debian's newest package unpacked beside the installed one:

    curl -sO http://deb.debian.org/debian/pool/main/libs/libsisimai-perl/libsisimai-perl_5.7.2-1_all.deb
    dpkg-deb -x libsisimai-perl_5.7.2-1_all.deb /opt/sisimai-5.7
    python benchmarks/speed.py --sisimai-lib /opt/sisimai-5.7/usr/share/perl5

bounced runs twice, as a deployment has it: pure Python, and compiled by mypyc
(docs/compiled.md). The script builds both wheels of this checkout (`benchmarks/compiled.py`; the
compiled one takes a couple of minutes, `--no-compiled` skips it) and runs each from a new
virtual environment that holds bounced's dependencies only: the environment the script runs in
may be a development one, with start-up hooks (an editable install's finder, coverage's) that
cost every process time a deployment does not spend. `--installed` runs the bounced of this
environment instead, as it is.

`--python PATH` makes those environments (and builds the wheels) with another Python 3.11+
interpreter than the one running the script. How the interpreter was built counts: a Python
compiled without profile-guided and link-time optimisation (pyenv's default build, for one) runs
bounced about a tenth slower than a distribution's or the official Docker image's, which are
built with them. Debian's own interpreter, the same provenance as the Perl that runs Sisimai:

    python benchmarks/speed.py --python /usr/bin/python3.11   # needs python3.11-venv, -dev

Process start-up is included for every contender, as a user would see it. `bounced parse`
keeps a regex cache (docs/performance.md): one untimed run of each build fills it first, in the
scratch folder, as any first use does. Each is
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
import tomllib
from pathlib import Path

from compiled import build_wheel, unpack

from bounced.regex_cache import ENV as REGEX_CACHE

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


def timed(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """One run of `command`: its wall-clock time and its CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        env=env,
        cwd=cwd,
    )
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
    parser.add_argument(
        "--no-compiled",
        action="store_true",
        help="build and run the pure Python build only",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter to make the clean environments with (default: this one)",
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="run the bounced installed in this environment instead of building both builds",
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
        if args.installed:
            # An installed package has its bytecode compiled (pip does it); a source checkout
            # run with PYTHONDONTWRITEBYTECODE=1 would recompile every module in every run.
            compile_bytecode(sys.executable, HERE.parent / "bounced")
        print(f"corpus: {len(files)} files x {args.repeat} = {count} messages, one core")
        # Every contender runs from the scratch folder: `python -m` looks in its working
        # folder first, and a checkout there would shadow the build under test.
        plain = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        builds: dict[str, dict[str, str]] = {}  # name: the environment it runs with
        if args.installed:
            python = sys.executable
            builds["bounced, installed:"] = {**plain, REGEX_CACHE: str(Path(folder, "regex.bin"))}
        else:
            python = clean_environment(Path(folder, "env"), args.python)
            for compiled in (False, *(() if args.no_compiled else (True,))):
                name = "bounced, compiled:" if compiled else "bounced, pure Python:"
                site = Path(folder, "compiled" if compiled else "pure")
                print(f"building {name.rstrip(':')} (benchmarks/compiled.py)...", flush=True)
                wheel = build_wheel(
                    Path(folder, f"wheel-{site.name}"), compiled=compiled, python=python
                )
                unpack(wheel, site)
                compile_bytecode(python, site)  # as an install does
                builds[name] = {
                    **plain,
                    "PYTHONPATH": str(site),
                    REGEX_CACHE: str(Path(folder, f"regex-{site.name}.bin")),
                }
        print(f"Python: {describe(python)}")
        command = [*pin, python, "-m", "bounced", "parse", "--format", "scorer", str(work)]
        contenders: dict[str, tuple[list[str], dict[str, str]]] = {}
        for name, env in builds.items():
            where = module_file(python, "bounced.parse", env, folder)
            print(f"{name:<26} bounced.parse from {where}")
            contenders[name] = (command, env)
        ours = list(builds)
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
                    contenders[name] = ([*pin, perl, *include, str(driver), str(work)], plain)
                    peers.append(name)
        # One untimed run of each build fills its regex cache (docs/performance.md), as a
        # first use does; the cache is the scratch folder's, not the user's.
        for name in ours:
            timed(*contenders[name], folder)
        # Round by round, each contender once a round: a machine that gets busier or quieter
        # during the benchmark then weighs on both alike.
        best = {name: (float("inf"), float("inf")) for name in contenders}
        for _ in range(args.runs):
            for name, (argv, env) in contenders.items():
                wall, cpu = timed(argv, env, folder)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        for name, (wall, cpu) in best.items():
            report(name, count, wall, cpu)
        if not peers:
            print("Sisimai not installed (apt-get install libsisimai-perl): no comparison")
            return 0
        for name in ours:
            for peer in peers:
                theirs, mine = best[peer], best[name]
                print(
                    f"ratio: {name.rstrip(':')} is {theirs[0] / mine[0]:.1f}x"
                    f" {peer.rstrip(':')} (CPU {theirs[1] / mine[1]:.1f}x) (target >= 5x)"
                )
    return 0


def clean_environment(env: Path, interpreter: str) -> str:
    """A new virtual environment with bounced's dependencies and nothing else; its python.

    bounced itself is not installed in it: each build is put on PYTHONPATH. The environment
    this script runs in may be a development one, whose start-up hooks (an editable install's
    finder, coverage's) a deployment does not have.
    """
    with open(HERE.parent / "pyproject.toml", "rb") as file:
        requires = tomllib.load(file)["project"]["dependencies"]
    print("making a clean environment with the dependencies...", flush=True)
    subprocess.run([interpreter, "-m", "venv", str(env)], check=True)
    python = str(env / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", *requires], check=True)
    return python


def describe(python: str) -> str:
    """The interpreter's version and where it comes from (a venv's base interpreter)."""
    found = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0], sys._base_executable)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def compile_bytecode(python: str, folder: Path) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", str(folder)],
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
    )


def module_file(python: str, module: str, env: dict[str, str], cwd: str) -> str:
    """Where `module` is imported from with this environment and working folder."""
    found = subprocess.run(
        [python, "-c", f"import {module} as m; print(m.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=cwd,
    )
    return found.stdout.strip()


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
