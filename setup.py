"""Which modules a compiled build compiles (see buildsys/bounced_build.py and docs/compiled.md).

The parser and the classifier are what every message goes through; the rest of the package
(the daemon, the policy engine, the store) waits on I/O and stays Python. The list is by
folder, so a new module of the parser or the classifier is compiled with its neighbours. The
compiled build also has a few of the parser's text functions in C (bounced/parse/_headers.c);
bounced/parse/native.py says which, and where their Python reference forms are.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

COMPILED = ["bounced/parse", "bounced/classify", "bounced/errors.py"]


def _extensions() -> list[object]:
    # Set by the build backend while it builds a wheel with BOUNCED_COMPILE=1, and only then.
    if os.environ.get("BOUNCED_BUILD_COMPILED") != "1":
        return []
    from mypyc.build import mypycify  # noqa: PLC0415 - only a compiled build has mypyc

    headers = Extension("bounced.parse._headers", sources=["bounced/parse/_headers.c"])
    return [*mypycify(COMPILED, opt_level="3"), headers]


setup(ext_modules=_extensions())
