"""DATA_DIR/encryption.key: one key for racing processes, validated, private, and its folder too."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from db import migrate
from services.settings import ConfigError, load_settings

ROUNDS = 40
RACERS = 6


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_processes_starting_together_all_get_the_same_valid_key(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        data_dir = tmp_path / f"round{round_}"
        barrier = threading.Barrier(RACERS)
        keys: list[str | BaseException] = []

        def start() -> None:
            settings = load_settings(data_dir=data_dir, encryption_key=None, _env_file=None)  # noqa: B023
            barrier.wait()  # noqa: B023
            try:
                keys.append(settings.encryption_keys()[0])  # noqa: B023
            except BaseException as exc:  # reported below with the round
                keys.append(exc)  # noqa: B023

        threads = [threading.Thread(target=start) for _ in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        written = (data_dir / "encryption.key").read_text().strip()
        assert keys == [written] * RACERS, (round_, keys)
        Fernet(written.encode())
        # Nothing is left behind but the key itself.
        assert sorted(p.name for p in data_dir.iterdir()) == ["encryption.key"]


def test_two_real_processes_racing_get_the_same_key(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from services.settings import load_settings\n"
        "s = load_settings(data_dir=sys.argv[1], encryption_key=None, _env_file=None)\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "print(s.encryption_keys()[0])\n"
    )
    import time

    go = str(time.time() + 1.5)  # both start their attempt at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "data"), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    first, second = (out.strip() for out, _ in outs)
    assert first == second == (tmp_path / "data" / "encryption.key").read_text().strip()


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "is empty"), ("\n  \n", "is empty"), ("not a fernet key\n", "does not hold a valid key")],
)
def test_an_empty_or_garbage_key_file_is_one_clear_sentence(
    tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "encryption.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(ConfigError) as err:
        load_settings(data_dir=tmp_path, encryption_key=None, _env_file=None).encryption_keys()
    message = str(err.value)
    assert f"The key file {path} {words}" in message and "ENCRYPTION_KEY" in message
    assert message.count(". ") == 0 and "\n" not in message


def test_the_cli_ends_with_that_sentence_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "encryption.key").write_text("")
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ENCRYPTION_KEY": "", "DATABASE_URL": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"rltr-mktg: The key file {tmp_path / 'encryption.key'} is empty: restore it from a "
        "backup, or set ENCRYPTION_KEY."
    ]


async def test_data_dir_key_and_database_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir, encryption_key=None, _env_file=None)
    settings.encryption_keys()
    await migrate.upgrade(settings.resolved_database_url)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "encryption.key") == 0o600
    files = [p for p in data_dir.iterdir() if p.name.startswith("rltr-mktg.db")]
    assert data_dir / "rltr-mktg.db" in files
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_key_file_others_can_read_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = Fernet.generate_key().decode()
    path = tmp_path / "encryption.key"
    path.write_text(key + "\n")
    path.chmod(0o644)
    caplog.set_level(logging.WARNING)
    for _ in range(2):
        assert load_settings(
            data_dir=tmp_path, encryption_key=None, _env_file=None
        ).encryption_keys() == [key]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, caplog.text
    assert str(path) in warnings[0].getMessage() and "chmod 600" in warnings[0].getMessage()
    assert key not in caplog.text

    private = tmp_path / "private"
    private.mkdir()
    (private / "encryption.key").write_text(key + "\n")
    (private / "encryption.key").chmod(0o600)
    caplog.clear()
    load_settings(data_dir=private, encryption_key=None, _env_file=None).encryption_keys()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
