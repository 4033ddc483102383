"""The build backend: setuptools', with the parser and classifier compiled by mypyc on request.

`BOUNCED_COMPILE=1` in the environment of a wheel build (`pip install .`, `pip wheel .`, the
Docker image) compiles the modules `setup.py` lists to C extensions; the build then also needs
mypy and a C compiler, and fails if either is missing rather than quietly shipping the slower
build. Without it, the wheel is pure Python.

An editable install (`pip install -e .`) is always pure Python, whatever the environment says:
compiled modules placed beside their sources would shadow them, and an edited source would
silently go on running as its old compiled self.
"""

from __future__ import annotations

import os
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401 - the hooks this backend does not change
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

# What a compiled build needs beyond setuptools: mypyc ships with mypy.
_COMPILER_REQUIRES = ["mypy>=1.10"]
# How build_wheel tells setup.py to compile.
_ASK = "BOUNCED_BUILD_COMPILED"


def _compiling() -> bool:
    setting = os.environ.get("BOUNCED_COMPILE", "0").strip()
    if setting not in {"0", "1", ""}:
        raise ValueError(f"BOUNCED_COMPILE must be 0 or 1, not {setting!r}")
    return setting == "1"


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    required: list[str] = _setuptools.get_requires_for_build_wheel(config_settings)
    return required + (_COMPILER_REQUIRES if _compiling() else [])


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    # setup.py compiles only while this is set: the other hooks run it too (for metadata and
    # requirements), before the compiler is installed.
    os.environ[_ASK] = "1" if _compiling() else "0"
    try:
        name: str = _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    finally:
        del os.environ[_ASK]
    return name


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name: str = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    return name
