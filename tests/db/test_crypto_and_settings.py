"""Token encryption with rotation, password hashes, and configuration errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.crypto import (
    DecryptionError,
    TokenCipher,
    generate_key,
    hash_password,
    verify_password,
)
from services.settings import ConfigError, load_settings


def test_encrypt_round_trip_and_ciphertext_hides_token() -> None:
    cipher = TokenCipher([generate_key()])
    token = "EAAB-page-token-123"
    enc = cipher.encrypt(token)
    assert token not in enc
    assert cipher.decrypt(enc) == token


def test_rotation_old_key_still_decrypts_and_rotate_moves_to_new() -> None:
    old, new = generate_key(), generate_key()
    enc_old = TokenCipher([old]).encrypt("secret")
    both = TokenCipher([new, old])
    assert both.decrypt(enc_old) == "secret"
    rotated = both.rotate(enc_old)
    assert TokenCipher([new]).decrypt(rotated) == "secret"
    with pytest.raises(DecryptionError):
        TokenCipher([old]).decrypt(rotated)


def test_wrong_key_is_our_error_naming_the_account() -> None:
    enc = TokenCipher([generate_key()]).encrypt("secret")
    with pytest.raises(DecryptionError) as err:
        TokenCipher([generate_key()]).decrypt(enc, what="the Facebook token of Chris")
    assert "the Facebook token of Chris" in str(err.value)
    assert "secret" not in str(err.value)


def test_password_hash_is_argon2_and_verifies() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong")
    assert not verify_password("not-a-hash", "x")


def test_key_file_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, encryption_key=None)
    first = settings.encryption_keys()
    path = tmp_path / "encryption.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path, encryption_key=None).encryption_keys() == first


def test_env_key_list_first_encrypts(tmp_path: Path) -> None:
    a, b = generate_key(), generate_key()
    settings = load_settings(data_dir=tmp_path, encryption_key=f"{a}, {b}")
    assert settings.encryption_keys() == [a, b]
    assert not (tmp_path / "encryption.key").exists()


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"database_url": "mysql://x/y"}, "DATABASE_URL"),
        ({"database_url": "::::"}, "DATABASE_URL"),
        ({"default_timezone": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({"scrape_interval_minutes": "often"}, "SCRAPE_INTERVAL_MINUTES"),
        ({"scrape_pass_deadline_minutes": 0}, "SCRAPE_PASS_DEADLINE_MINUTES"),
        ({"publish_interval_seconds": 0}, "PUBLISH_INTERVAL_SECONDS"),
        ({"telegram_admin_ids": "12,bob"}, "TELEGRAM_ADMIN_IDS"),
        ({"graph_api_base_url": "graph.facebook.com"}, "GRAPH_API_BASE_URL"),
    ],
)
def test_bad_config_is_one_sentence_naming_the_variable(
    overrides: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    message = str(err.value)
    assert message.startswith(variable)
    assert message.endswith(".") and "\n" not in message


def test_bad_encryption_key_and_missing_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        load_settings(encryption_key="not-a-key", data_dir=tmp_path).encryption_keys()
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(telegram_bot_token="").require_bot_token()


def test_defaults() -> None:
    s = load_settings(_env_file=None)
    assert s.scrape_interval_minutes == 30 and s.publish_interval_seconds == 30
    assert s.scrape_pass_deadline_minutes == 20  # under the interval: no pass is skipped
    assert s.default_timezone == "America/New_York"
    assert s.listings_base == "https://holidaybuilders.com"
    assert s.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert s.admin_ids == frozenset()
