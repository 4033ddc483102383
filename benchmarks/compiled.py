"""Build bounced with its parser and classifier compiled by mypyc, in a folder of its own.

    python benchmarks/compiled.py --tree DIR    # a copy of the source tree, compiled in place

Builds a wheel of this checkout with BOUNCED_COMPILE=1 (see docs/compiled.md), which takes a
couple of minutes and needs a C compiler, then copies the checkout (tests and data included)
to DIR and lays the compiled modules beside their sources: `pytest` run in DIR tests the
compiled build, and `PYTHONPATH=DIR python -m bounced ...` run outside a checkout runs it.
`.ci/run` uses this; `benchmarks/speed.py` uses its `build_wheel` and `unpack` for both builds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def build_wheel(dest: Path, *, compiled: bool = True, python: str = sys.executable) -> Path:
    """Build a wheel of this checkout into `dest`, compiled or pure Python, with `python` (its
    pip, and for a compiled wheel its headers: the wheel is for that interpreter); return its
    path."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bounced-build-") as scratch:
        # Built from a copy, so that the build leaves nothing in the checkout.
        source = Path(scratch, "src")
        shutil.copytree(ROOT, source, ignore=_SKIP)
        subprocess.run(
            [python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), "."],
            cwd=source,
            env={**os.environ, "BOUNCED_COMPILE": "1" if compiled else "0"},
            check=True,
        )
    wheels = sorted(dest.glob("bounced-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one bounced wheel in {dest}, found {len(wheels)}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        if compiled != any(name.endswith((".so", ".pyd")) for name in wheel.namelist()):
            raise SystemExit(f"{wheels[0].name}: compiled modules expected: {compiled}")
    return wheels[0]


def unpack(wheel: Path, dest: Path) -> None:
    """The package files of `wheel` into `dest` (its .dist-info folder left out)."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if ".dist-info/" not in name:
                archive.extract(name, dest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tree", type=Path, required=True, help="copy the checkout here, compiled in place"
    )
    target: Path = parser.parse_args().tree
    if target.exists() and any(target.iterdir()):
        parser.error(f"{target} is not empty")
    with tempfile.TemporaryDirectory(prefix="bounced-wheel-") as folder:
        wheel = build_wheel(Path(folder))
        shutil.copytree(ROOT, target, ignore=_SKIP, dirs_exist_ok=True)
        unpack(wheel, target)
    print(f"compiled build in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
