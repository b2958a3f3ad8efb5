"""`rltr-mktg rotate-key`: every token moves to the newest key, or none does and one sentence
names the account whose token no key opens."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import SocialMediaAccount
from services.context import Database
from services.crypto import TokenCipher, generate_key
from tests.factories import make_account, make_agent

LOST_TOKEN = "EAAGtokenUnderALostKey0123456789abcdef"
KEPT_TOKEN = "EAAGtokenUnderTheOldKey0123456789abcdef"


async def _rotate_key(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "rotate-key",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _tokens(database: Database) -> dict[str, str]:
    async with database.unit_of_work() as s:
        rows = (await s.execute(select(SocialMediaAccount))).scalars().all()
    return {r.account_id: r.access_token_encrypted for r in rows}


async def test_a_token_no_key_opens_is_named_in_one_sentence_and_nothing_moves(
    database: Database, migrated_url: str, tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("one process-level run is enough")
    old_key, new_key, lost_key = generate_key(), generate_key(), generate_key()
    async with database.unit_of_work() as s:
        agent = await make_agent(s, email="chris@example.com", name="Chris Doe")
        await make_account(
            s,
            agent,
            "facebook",
            account_id="104857392018374",
            display_name="Sunny Homes",
            access_token_encrypted=TokenCipher([old_key]).encrypt(KEPT_TOKEN),
        )
        await make_account(
            s,
            agent,
            "instagram",
            account_id="17841400000000001",
            display_name="Sunny Homes (@sunnyhomes)",
            access_token_encrypted=TokenCipher([lost_key]).encrypt(LOST_TOKEN),
        )
    before = await _tokens(database)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": migrated_url,
        "ENCRYPTION_KEY": f"{new_key},{old_key}",
        "DATA_DIR": str(tmp_path),
    }

    code, out, err = await _rotate_key(env, tmp_path)

    assert code == 2, err[-2000:]
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [
        "rltr-mktg: No key in ENCRYPTION_KEY opens the token of the Instagram account "
        "Sunny Homes (@sunnyhomes) (17841400000000001) of chris@example.com, so no token was "
        "re-encrypted; put the key it was stored with after the new one "
        "(ENCRYPTION_KEY=new,old) and run rotate-key again, or reconnect that account."
    ]
    for secret in (LOST_TOKEN, KEPT_TOKEN, old_key, new_key, lost_key):
        assert secret not in err
    # The Facebook token, rotated first, was rolled back with the rest.
    assert await _tokens(database) == before

    async with database.unit_of_work() as s:
        lost = (
            await s.execute(
                select(SocialMediaAccount).where(SocialMediaAccount.platform == "instagram")
            )
        ).scalar_one()
        await s.delete(lost)
    code, out, err = await _rotate_key(env, tmp_path)
    assert code == 0, err[-2000:]
    assert "Re-encrypted 1 account token(s) under the newest key." in out
    [moved] = (await _tokens(database)).values()
    assert TokenCipher([new_key]).decrypt(moved) == KEPT_TOKEN
