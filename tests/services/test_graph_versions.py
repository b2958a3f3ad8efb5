"""The Graph API version: one constant, the default URL, and when a version stops working."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from services.graph_versions import (
    CURRENT_GRAPH_VERSION,
    DEFAULT_GRAPH_API_BASE_URL,
    GRAPH_VERSIONS,
    usable_until,
    version_status,
)
from services.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_current_version_is_v27_released_in_november_2026() -> None:
    assert CURRENT_GRAPH_VERSION == "v27.0"
    assert GRAPH_VERSIONS[CURRENT_GRAPH_VERSION] == date(2026, 11, 4)
    assert DEFAULT_GRAPH_API_BASE_URL == "https://graph.facebook.com/v27.0"


def test_settings_default_to_the_current_version(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert settings.graph_api_base_url == DEFAULT_GRAPH_API_BASE_URL


def test_the_documentation_shows_the_same_default() -> None:
    readme = (REPO / "README.md").read_text()
    assert f"| `GRAPH_API_BASE_URL` | `{DEFAULT_GRAPH_API_BASE_URL}` |" in readme
    env_example = (REPO / ".env.example").read_text()
    assert f"# GRAPH_API_BASE_URL={DEFAULT_GRAPH_API_BASE_URL}\n" in env_example


def test_a_version_lives_two_years_after_the_next_release() -> None:
    # Meta's changelog: v23.0 usable until 8 Oct 2027, v24.0 until 18 Feb 2028.
    assert usable_until("v23.0") == date(2027, 10, 8)
    assert usable_until("v24.0") == date(2028, 2, 18)
    # The newest has no successor yet: at least two years from its own release.
    assert usable_until("v27.0") == date(2028, 11, 4)
    assert usable_until("v12.0") == usable_until("v19.0")  # older than the list: over
    assert usable_until("v99.0") is None  # newer than the list: unknown


def test_status_of_old_current_and_unknown_versions() -> None:
    old = "https://graph.facebook.com/v23.0"
    assert not version_status(old, date(2027, 6, 1)).warning
    near = version_status(old, date(2027, 8, 1))
    assert near.ok and near.warning
    assert "v23.0 stops working around 2027-10-08, in 68 days" in near.advice
    assert DEFAULT_GRAPH_API_BASE_URL in near.advice
    past = version_status(old, date(2027, 10, 8))
    assert not past.ok and "stopped working" in past.advice
    current = version_status(DEFAULT_GRAPH_API_BASE_URL, date(2027, 8, 1))
    assert current.ok and not current.warning
    assert version_status("http://127.0.0.1:8765/v27.0/", date(2027, 8, 1)).version == "v27.0"
    unversioned = version_status("https://graph.facebook.com", date(2027, 8, 1))
    assert unversioned.warning and unversioned.version is None
