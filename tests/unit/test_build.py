"""The build backend's choice between the pure and the compiled build (docs/compiled.md)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

import bounced
import bounced.classify
import bounced.parse
import bounced.parse.mime

ROOT = Path(__file__).resolve().parents[2]


def _backend() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bounced_build", ROOT / "buildsys/bounced_build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("setting", "compiling"), [("1", True), ("0", False), ("", False)])
def test_bounced_compile_setting(
    monkeypatch: pytest.MonkeyPatch, setting: str, compiling: bool
) -> None:
    monkeypatch.setenv("BOUNCED_COMPILE", setting)
    assert _backend()._compiling() is compiling


def test_unset_bounced_compile_builds_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOUNCED_COMPILE", raising=False)
    assert _backend()._compiling() is False


@pytest.mark.parametrize("setting", ["yes", "true", "2", " on"])
def test_bounced_compile_rejects_other_values(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("BOUNCED_COMPILE", setting)
    with pytest.raises(ValueError, match="BOUNCED_COMPILE must be 0 or 1"):
        _backend()._compiling()


def test_compiled_wheel_asks_for_the_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend()
    # setuptools' own requirements (it runs setup.py for them) are beside the point here.
    monkeypatch.setattr(backend._setuptools, "get_requires_for_build_wheel", lambda _cs=None: [])
    monkeypatch.setenv("BOUNCED_COMPILE", "1")
    assert backend.get_requires_for_build_wheel() == ["mypy>=1.10"]
    monkeypatch.setenv("BOUNCED_COMPILE", "0")
    assert backend.get_requires_for_build_wheel() == []


def test_setup_compiles_only_inside_build_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend()
    seen: list[str | None] = []

    def build(*_args: object) -> str:
        seen.append(os.environ.get("BOUNCED_BUILD_COMPILED"))
        return "bounced.whl"

    monkeypatch.setattr(backend._setuptools, "build_wheel", build)
    monkeypatch.setattr(backend._setuptools, "build_editable", build)
    monkeypatch.setenv("BOUNCED_COMPILE", "1")
    assert backend.build_wheel("dist") == "bounced.whl"
    assert backend.build_editable("dist") == "bounced.whl"  # editable: never compiled
    monkeypatch.setenv("BOUNCED_COMPILE", "0")
    backend.build_wheel("dist")
    assert seen == ["1", None, "0"]
    assert "BOUNCED_BUILD_COMPILED" not in os.environ


@pytest.mark.skipif(
    os.environ.get("BOUNCED_EXPECT_COMPILED") != "1",
    reason="set BOUNCED_EXPECT_COMPILED=1 when testing a compiled build (.ci/run does)",
)
def test_the_compiled_build_is_the_one_under_test() -> None:
    headers = importlib.import_module("bounced.parse._headers")  # the C text functions
    for module in (bounced.parse, bounced.parse.mime, bounced.classify, headers):
        assert module.__file__ is not None
        assert module.__file__.endswith((".so", ".pyd")), module.__file__


def test_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    from bounced.cli import main

    assert main(["--version"]) == 0
    expected = "compiled" if os.environ.get("BOUNCED_EXPECT_COMPILED") == "1" else "pure Python"
    assert capsys.readouterr().out == f"{bounced.__version__} ({expected})\n"
