"""The Makefile, pyproject.toml and the Dockerfile: what each command installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _make_dry_run(target: str, venv: Path) -> list[str]:
    """The commands `make <target>` would run for a fresh virtual environment."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def _installs(commands: list[str]) -> list[str]:
    return [c for c in commands if "pip install" in c and "--upgrade pip" not in c]


def test_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    commands = _make_dry_run("run", tmp_path / "venv")
    [install] = _installs(commands)
    assert "-e ." in install and "[dev]" not in install, commands
    assert commands[-1].endswith("rltr-mktg run")


@pytest.mark.parametrize("target", ["test", "lint", "install"])
def test_test_and_lint_install_the_dev_tools(tmp_path: Path, target: str) -> None:
    [install] = _installs(_make_dry_run(target, tmp_path / "venv"))
    assert '-e ".[dev]"' in install
