"""The Makefile, pyproject.toml and the Dockerfile: what each command installs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def _make_dry_run(target: str, venv: Path) -> list[str]:
    """The commands `make <target>` would run for a fresh virtual environment."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Not the make that may be running these tests (`make test`): its MAKEFLAGS and level
    # would make this one print "Entering/Leaving directory" lines among the commands.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=REPO,
        env=env,
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


# The releases carrying the security fixes known today (`pip index versions <pkg>`,
# December 2026); pyproject's floors must not admit anything older.
FIXED_FLOORS = {
    "aiohttp": "3.14.5",
    "lxml": "6.2.1",
    "cryptography": "51.0.1",
    "pillow": "13.0.0",
}
# Used through private APIs: the next release that may change them is excluded.
CAPPED_BELOW = {"sqlalchemy": "2.2", "python-telegram-bot": "23"}


def _runtime_requirements() -> list[Requirement]:
    with open(REPO / "pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    return [Requirement(r) for r in project["dependencies"]]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def _floor(req: Requirement) -> Version | None:
    floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


def test_security_sensitive_floors_admit_no_release_without_the_fixes() -> None:
    reqs = {canonicalize_name(r.name): r for r in _runtime_requirements()}
    for name, fixed in FIXED_FLOORS.items():
        floor = _floor(reqs[name])
        assert floor is not None and floor >= Version(fixed), (name, str(reqs[name].specifier))
        assert Version(fixed) in reqs[name].specifier


def test_packages_used_through_private_apis_are_capped() -> None:
    reqs = {canonicalize_name(r.name): r for r in _runtime_requirements()}
    for name, cap in CAPPED_BELOW.items():
        assert Version(cap) not in reqs[name].specifier, (name, str(reqs[name].specifier))
        assert any(s.operator == "<" for s in reqs[name].specifier), name


def test_every_runtime_dependency_is_pinned_in_constraints_within_its_range() -> None:
    pins = _pins()
    for req in _runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (req, str(pins[name]))
    assert "rltr-mktg" not in pins


def test_the_docker_image_installs_from_the_constraints() -> None:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    assert any(line.startswith("COPY") and "constraints.txt" in line for line in lines)
    assert any("pip install -c constraints.txt ." in line for line in lines)


def test_the_docker_image_installs_the_package_normally() -> None:
    # Not editable: the migrations travel inside the package (db/migrations), so the image
    # needs neither alembic.ini nor the source tree at run time.
    lines = (REPO / "Dockerfile").read_text().splitlines()
    installs = [line for line in lines if "pip install" in line]
    assert installs and not any(" -e " in line or "--editable" in line for line in installs)
    assert any("pip install --no-deps -c constraints.txt ." in line for line in installs)
    assert not any(line.startswith("COPY") and "migrations" in line for line in lines)
    assert any("rm -rf /app/*" in line for line in lines), "the sources stay in the image"
