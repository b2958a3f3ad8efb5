"""`rltr-mktg doctor` reports each check in plain words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.doctor import run_doctor
from services.graph_versions import CURRENT_GRAPH_VERSION, DEFAULT_GRAPH_API_BASE_URL
from services.settings import load_settings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_api.facebook_login import APP_ID, APP_SECRET, FakeFacebookLogin
from tests.fakes.telegram_api import FakeTelegram


async def test_doctor_all_green_against_local_services(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from db import migrate

    async with FakeTelegram() as tg, FakeGraphApi() as graph:
        settings = load_settings(
            telegram_bot_token=tg.token,
            telegram_api_base_url=tg.base_url,
            graph_api_base_url=graph.base_url,
            listings_base_url=graph.base_url,  # any HTTP answer proves reachability
            data_dir=tmp_path,
            _env_file=None,
        )
        await migrate.upgrade(settings.resolved_database_url)
        code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "✓ telegram: bot @rltr_mktg_test_bot" in out
    assert "✓ database: sqlite, schema up to date" in out
    assert "built-in writer" in out


async def test_doctor_names_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        telegram_bot_token="",
        graph_api_base_url="http://127.0.0.1:9",
        listings_base_url="http://127.0.0.1:9",
        data_dir=tmp_path,
        _env_file=None,
    )
    code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ telegram: TELEGRAM_BOT_TOKEN is not set" in out
    assert "✗ database:" in out and "rltr-mktg migrate" in out
    assert "✗ graph api: cannot reach http://127.0.0.1:9" in out


async def test_doctor_with_a_rejected_token_does_not_print_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "7301234567:AAHk3fZ_Qw9xYt2LmNoPqRsTuVwXyZ01234"
    async with FakeTelegram() as tg:  # knows only its own token: answers 401 to this one
        settings = load_settings(
            telegram_bot_token=token,
            telegram_api_base_url=tg.base_url,
            graph_api_base_url="http://127.0.0.1:9",
            listings_base_url="http://127.0.0.1:9",
            data_dir=tmp_path,
            _env_file=None,
        )
        code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ telegram:" in out and "rejected" in out, out
    assert token.split(":")[1] not in out and token not in out, out


async def _doctor_lines(settings_url: str, today: date, tmp_path: Path, capsys) -> list[str]:
    settings = load_settings(
        telegram_bot_token="",
        graph_api_base_url=settings_url,
        listings_base_url="http://127.0.0.1:9",
        data_dir=tmp_path,
        _env_file=None,
    )
    await run_doctor(settings, today=today)
    return [line for line in capsys.readouterr().out.splitlines() if "graph api version" in line]


async def test_doctor_warns_when_the_graph_version_nears_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = "https://graph.facebook.com/v23.0"
    assert await _doctor_lines(old, date(2027, 8, 1), tmp_path, capsys) == [
        "⚠ graph api version: v23.0 stops working around 2027-10-08, in 68 days; "
        f"set GRAPH_API_BASE_URL to {DEFAULT_GRAPH_API_BASE_URL}"
    ]
    [past] = await _doctor_lines(old, date(2027, 11, 1), tmp_path, capsys)
    assert past.startswith("✗ graph api version: v23.0 stopped working by 2027-10-08")
    assert past.endswith(f"set GRAPH_API_BASE_URL to {DEFAULT_GRAPH_API_BASE_URL}")


async def test_doctor_is_quiet_about_the_current_graph_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _doctor_lines(DEFAULT_GRAPH_API_BASE_URL, date(2027, 8, 1), tmp_path, capsys) == [
        f"✓ graph api version: {CURRENT_GRAPH_VERSION}, usable until 2028-11-04"
    ]


async def test_doctor_checks_the_facebook_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeGraphApi() as graph:
        login = FakeFacebookLogin(graph)
        values = {
            "graph_api_base_url": graph.base_url,
            "listings_base_url": graph.base_url,
            "public_url": "https://bot.example.com",
            "data_dir": tmp_path,
            "_env_file": None,
        }
        await run_doctor(load_settings(**values))
        assert (
            "✓ facebook login: not configured: agents paste a Page token" in capsys.readouterr().out
        )
        app = {"facebook_app_id": APP_ID, "facebook_app_secret": APP_SECRET}
        await run_doctor(load_settings(**values, **app))
        out = capsys.readouterr().out
        assert (
            "✓ facebook login: app rltr-mktg test app; its Valid OAuth Redirect URIs must list "
            "https://bot.example.com/auth/facebook/callback"
        ) in out
        login.app_secret = "rotated-in-the-meta-dashboard"
        await run_doctor(load_settings(**values, **app))
        out = capsys.readouterr().out
        assert "✗ facebook login: Facebook refused the app" in out
        assert "check FACEBOOK_APP_ID and FACEBOOK_APP_SECRET" in out
        assert APP_SECRET not in out
