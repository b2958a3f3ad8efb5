"""`rltr-mktg connect-account`: token on stdin, validated, stored encrypted; errors exit 2."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.accounts_cli import connect_account, parse_expiry
from db.models import SocialMediaAccount
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.errors import InvalidInputError, ServiceError
from services.settings import Settings, load_settings
from tests.factories import make_agent
from tests.fakes.graph_api import FakeGraphApi
from tests.services.publishing.conftest import IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN

REPO = Path(__file__).resolve().parents[3]


def _settings(url: str, key: str, fake: FakeGraphApi, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=url,
        encryption_key=key,
        graph_api_base_url=fake.base_url,
        data_dir=tmp_path,
        _env_file=None,
    )


def _args(**values: object) -> argparse.Namespace:
    base = {"agent": "chris@example.com", "platform": "facebook", "account_id": PAGE_ID}
    base.update(values)
    base.setdefault("expires_at", None)
    return argparse.Namespace(**base)


async def _stored(database: Database) -> list[SocialMediaAccount]:
    async with database.unit_of_work() as s:
        return list((await s.execute(select(SocialMediaAccount))).scalars().all())


async def test_connect_account_reads_the_token_from_stdin(
    database: Database, migrated_url: str, fake: FakeGraphApi, tmp_path, monkeypatch, capsys
) -> None:
    async with database.unit_of_work() as s:
        await make_agent(s, email="chris@example.com", name="Chris Doe")
    key = generate_key()
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"\n{IG_TOKEN}\n"))
    code = await connect_account(
        _settings(migrated_url, key, fake, tmp_path),
        _args(platform="instagram", account_id=IG_ID, expires_at="2099-01-31"),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("Connected Instagram Sunny Homes (@sunnyhomes)")
    assert "for Chris Doe" in out and "2099-01-31T00:00:00+00:00" in out
    assert IG_TOKEN not in out
    [row] = await _stored(database)
    assert TokenCipher([key]).decrypt(row.access_token_encrypted) == IG_TOKEN


@pytest.mark.parametrize(
    ("stdin", "args", "words"),
    [
        ("", {}, "No access token on stdin"),
        (PAGE_TOKEN, {"agent": "nobody@example.com"}, "No agent has the email"),
        (PAGE_TOKEN, {"platform": "twitter"}, "Unknown platform"),
        (PAGE_TOKEN, {"expires_at": "next week"}, "is not an ISO date"),
        ("EAAGrevoked0123456789abcdefghij", {}, "rejected the saved token"),
    ],
)
async def test_connect_account_errors_are_one_sentence(
    database: Database,
    migrated_url: str,
    fake: FakeGraphApi,
    tmp_path,
    monkeypatch,
    stdin,
    args,
    words,
) -> None:
    async with database.unit_of_work() as s:
        await make_agent(s, email="chris@example.com")
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(ServiceError) as info:
        await connect_account(
            _settings(migrated_url, generate_key(), fake, tmp_path), _args(**args)
        )
    assert words in info.value.message and "\n" not in info.value.message
    assert await _stored(database) == []


def test_parse_expiry_defaults_to_utc() -> None:
    assert parse_expiry("2027-01-31").isoformat() == "2027-01-31T00:00:00+00:00"
    assert parse_expiry("2027-01-31T10:00:00Z").isoformat() == "2027-01-31T10:00:00+00:00"
    assert parse_expiry(None) is None
    with pytest.raises(InvalidInputError):
        parse_expiry("31/01/2027")


async def test_the_real_command_line(
    database: Database, migrated_url: str, fake: FakeGraphApi, tmp_path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("one process-level run is enough")
    async with database.unit_of_work() as s:
        await make_agent(s, email="chris@example.com", name="Chris Doe")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": migrated_url,
        "ENCRYPTION_KEY": generate_key(),
        "GRAPH_API_BASE_URL": fake.base_url,
        "DATA_DIR": str(tmp_path),
    }

    async def run(*argv: str, stdin: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "connect-account",
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        out, err = await proc.communicate(stdin.encode())
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await run(
        "--agent",
        "chris@example.com",
        "--platform",
        "facebook",
        "--account-id",
        PAGE_ID,
        stdin=PAGE_TOKEN + "\n",
    )
    assert code == 0, err
    assert "Connected Facebook Sunny Homes (104857392018374) for Chris Doe" in out
    assert PAGE_TOKEN not in out + err

    code, out, err = await run(
        "--agent",
        "chris@example.com",
        "--platform",
        "instagram",
        "--account-id",
        PAGE_ID,
        stdin=PAGE_TOKEN,
    )
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("rltr-mktg:")]
    assert len(lines) == 1 and "is a Facebook Page, not an Instagram account" in lines[0]
    assert "Traceback" not in err and PAGE_TOKEN not in err
