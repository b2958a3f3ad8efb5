"""`rltr-mktg add-user` as a real process: the password comes from stdin; a weak one, an
unknown agent or a missing role is one sentence and exit code 2."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select

from db.models import User
from db.session import create_engine, create_sessionmaker
from services.crypto import verify_password


async def _add_user(tmp_path: Path, stdin: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "PUBLIC_URL": ""}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "add-user",
        *args,
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_add_user_reads_the_password_from_stdin(tmp_path: Path) -> None:
    password = "tangerine rocket ladder"
    code, out, err = await _add_user(
        tmp_path, f"{password}\nsecond line ignored\n", "--email", "Broker@Example.com", "--admin"
    )
    assert code == 0, err
    assert "Dashboard login broker@example.com created" in out
    assert "http://127.0.0.1:8080/login" in out
    assert password not in out + err
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'rltr-mktg.db'}")
    try:
        async with create_sessionmaker(engine)() as s:
            user = (await s.execute(select(User))).scalar_one()
    finally:
        await engine.dispose()
    assert user.is_admin and verify_password(user.password_hash, password)


async def test_add_user_refusals_are_one_sentence_and_exit_2(tmp_path: Path) -> None:
    cases = [
        ("short\n", ("--email", "a@example.com", "--admin"), "too short"),
        ("password1234\n", ("--email", "a@example.com", "--admin"), "too common"),
        ("\n", ("--email", "a@example.com", "--admin"), "No password on stdin"),
        ("tangerine rocket ladder\n", ("--email", "a@example.com"), "--agent AGENT_EMAIL"),
        (
            "tangerine rocket ladder\n",
            ("--email", "a@example.com", "--agent", "nobody@example.com"),
            "No agent has the email nobody@example.com",
        ),
    ]
    for stdin, args, words in cases:
        code, _out, err = await _add_user(tmp_path, stdin, *args)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in err, err
