"""All configuration, read once from the environment and `.env`.

Nothing else in the project reads `os.environ`. Bad values become `ConfigError`
with one sentence naming the variable; the CLI turns that into exit code 2.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import stat
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.errors import DatabaseUrlError
from db.session import normalize_url
from services.generation.listing_facts import DEFAULT_BUILDER_NAME
from services.graph_versions import CURRENT_GRAPH_VERSION, DEFAULT_GRAPH_API_BASE_URL
from services.redaction import remember_secret

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
KEY_FILE_NAME = "encryption.key"
DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES = 20
"""A first pass of 2,000 homes at the default pace (4 at a time, 0.25 s apart, ~0.5 s a
page) takes 5-8 minutes; 20 leaves room for a site two or three times slower and stays
under the 30-minute interval, so the next scheduled pass is never skipped as "already
running". A pass slowed further (a Crawl-delay) stops there and the next one goes on."""

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
FACEBOOK_CALLBACK_PATH = "/auth/facebook/callback"
DEFAULT_FACEBOOK_OAUTH_DIALOG_URL = f"https://www.facebook.com/{CURRENT_GRAPH_VERSION}/dialog/oauth"
# What the default webhook secret is derived from, together with the bot token.
_WEBHOOK_SECRET_LABEL = b"rltr-mktg telegram webhook secret v1"
# Telegram's rule for secret_token: 1-256 characters, only A-Z a-z 0-9 _ -.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """Configuration that cannot work; the message is one sentence for a person."""


class Settings(BaseSettings):
    """Every variable of PRODUCT.md §1."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_admin_ids: str = ""
    database_url: str = ""
    encryption_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_OPENAI_MODEL
    graph_api_base_url: str = DEFAULT_GRAPH_API_BASE_URL
    listings_base_url: str = "https://holidaybuilders.com"
    # Every post and flyer credits the builder: "Home built by Holiday Builders".
    builder_name: str = Field(default=DEFAULT_BUILDER_NAME, min_length=1, max_length=120)
    # An unanswered draft gets one reminder after this many hours (fractions allowed).
    draft_reminder_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    scrape_interval_minutes: int = Field(default=30, ge=1, le=24 * 60)
    scrape_pass_deadline_minutes: float = Field(
        default=DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES, gt=0, le=24 * 60
    )
    publish_interval_seconds: int = Field(default=30, ge=1, le=3600)
    default_timezone: str = "America/New_York"
    data_dir: Path = Path("./data")
    web_host: str = "127.0.0.1"
    # 0 picks a free port (tests); the port actually bound is logged.
    web_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    # Reverse proxies in front of the web server (Caddy in docker-compose.yml: 1), whose
    # X-Forwarded-For then names the client; 0 ignores the header (anyone can write it).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    facebook_app_id: str = ""
    facebook_app_secret: SecretStr | None = None
    facebook_oauth_dialog_url: str = DEFAULT_FACEBOOK_OAUTH_DIALOG_URL

    @field_validator("facebook_app_id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        value = value.strip()
        if value and not value.isdigit():
            raise ValueError("must be the numeric App ID shown in the Meta app dashboard")
        return value

    @field_validator("telegram_admin_ids")
    @classmethod
    def _admin_ids(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip() and not part.strip().lstrip("-").isdigit():
                raise ValueError("must be comma-separated numeric Telegram user ids")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known IANA time zone such as America/New_York") from None
        return value

    @field_validator("telegram_mode", mode="before")
    @classmethod
    def _mode(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in ("polling", "webhook"):
                raise ValueError("must be polling or webhook")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1 to 256 characters, only A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator(
        "telegram_api_base_url",
        "graph_api_base_url",
        "listings_base_url",
        "openai_base_url",
        "public_url",
        "facebook_oauth_dialog_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value is None else value
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator(
        "telegram_bot_token",
        "openai_api_key",
        "encryption_key",
        "telegram_webhook_secret",
        "facebook_app_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def admin_ids(self) -> frozenset[int]:
        """Telegram user ids allowed to use admin commands."""
        return frozenset(int(p) for p in self.telegram_admin_ids.split(",") if p.strip())

    @property
    def listings_base(self) -> str:
        """The builder site's root without a trailing slash."""
        return self.listings_base_url.rstrip("/")

    @cached_property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in DATA_DIR when unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'rltr-mktg.db').resolve()}"

    def require_bot_token(self) -> str:
        """The bot token, or a ConfigError saying how to get one."""
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
                "in the environment or in .env."
            )
        return self.telegram_bot_token.get_secret_value()

    def public_base_url(self, bound_port: int | None = None) -> str:
        """PUBLIC_URL without a trailing slash, or http://WEB_HOST:port when it is empty.

        `bound_port` is the port the web server actually listens on (WEB_PORT=0 picks one).
        """
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.web_host}]" if ":" in self.web_host else self.web_host
        return f"http://{host}:{bound_port or self.web_port}"

    @property
    def facebook_login_enabled(self) -> bool:
        """Whether "Connect with Facebook" is configured (FACEBOOK_APP_ID and _SECRET)."""
        return bool(self.facebook_app_id) and self.facebook_app_secret is not None

    def webhook_secret(self) -> str:
        """TELEGRAM_WEBHOOK_SECRET, or one derived from the bot token (64 hex characters)."""
        if self.telegram_webhook_secret is not None:
            return self.telegram_webhook_secret.get_secret_value()
        token = self.require_bot_token().encode("utf-8")
        return hmac.new(token, _WEBHOOK_SECRET_LABEL, hashlib.sha256).hexdigest()

    def encryption_keys(self) -> list[str]:
        """The Fernet keys (first encrypts, all decrypt); generated once when unset."""
        if self.encryption_key is not None:
            keys = [k.strip() for k in self.encryption_key.get_secret_value().split(",")]
            keys = [k for k in keys if k]
            for k in keys:
                try:
                    Fernet(k.encode())
                except (ValueError, TypeError):
                    raise ConfigError(
                        "ENCRYPTION_KEY is not a valid Fernet key: run `rltr-mktg generate-key` "
                        "and use what it prints."
                    ) from None
            if not keys:
                raise ConfigError("ENCRYPTION_KEY is empty: run `rltr-mktg generate-key`.")
        else:
            keys = [_load_or_create_key_file(self.data_dir)]
        remember_secret(*keys)
        return keys


def make_data_dir(data_dir: Path) -> None:
    """Create DATA_DIR owner-only (0700): it holds the key and the database it protects."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _webhook_capable(url: str) -> bool:
    """https, or http on a loopback address (a local Bot API server, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _load_or_create_key_file(data_dir: Path) -> str:
    path = data_dir / KEY_FILE_NAME
    try:
        if not path.exists():
            _create_key_file(data_dir, path)
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"DATA_DIR {data_dir} is not writable ({exc.strerror}): set DATA_DIR to a folder "
            "this user can write."
        ) from None
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        what = "is empty" if not key else "does not hold a valid key"
        raise ConfigError(
            f"The key file {path} {what}: restore it from a backup, or set ENCRYPTION_KEY."
        ) from None
    _warn_if_readable_by_others(path)
    return key


def _create_key_file(data_dir: Path, path: Path) -> None:
    """Write a new key where no key file exists yet, atomically.

    The key is written and synced to a private temporary file first, then hard-linked
    to its name: the link fails if another process got there first, so two processes
    starting together both end up with the winner's key, and nobody ever reads a key
    file that is empty or half written.
    """
    make_data_dir(data_dir)
    fd, tmp = tempfile.mkstemp(prefix=f".{KEY_FILE_NAME}.", dir=data_dir)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process's key won; it is read like any existing file
        _fsync_dir(data_dir)
    finally:
        os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry survive a power loss."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_warned_readable: set[Path] = set()


def _warn_if_readable_by_others(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and path not in _warned_readable:
        _warned_readable.add(path)
        log.warning(
            "the encryption key file %s can be read by other users (mode %s); run `chmod 600 %s`",
            path,
            oct(stat.S_IMODE(mode)),
            path,
        )


def load_settings(**overrides: object) -> Settings:
    """Read and validate the configuration, or raise ConfigError in one sentence."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        msg = str(err["msg"])
        if err["type"] == "value_error":
            text = f"{field} {msg.removeprefix('Value error, ')}."
        else:
            text = f"{field} is not valid: {msg[:1].lower()}{msg[1:]}."
        raise ConfigError(text) from None
    remember_secret(
        *(
            secret.get_secret_value()
            for secret in (
                settings.telegram_bot_token,
                settings.openai_api_key,
                settings.facebook_app_secret,
            )
            if secret is not None
        )
    )
    if settings.telegram_bot_token is not None:
        remember_secret(settings.webhook_secret())
    try:
        normalize_url(settings.resolved_database_url)
    except DatabaseUrlError as exc:
        raise ConfigError(
            f"DATABASE_URL is not usable ({exc}); write it like "
            "postgresql+asyncpg://user:password@localhost:5432/rltr."
        ) from None
    if bool(settings.facebook_app_id) != (settings.facebook_app_secret is not None):
        missing = "FACEBOOK_APP_SECRET" if settings.facebook_app_id else "FACEBOOK_APP_ID"
        raise ConfigError(
            f"{missing} is not set: Connect with Facebook needs both FACEBOOK_APP_ID and "
            "FACEBOOK_APP_SECRET (from the Meta app dashboard), or neither for manual tokens."
        )
    if settings.telegram_mode == "webhook" and not _webhook_capable(settings.public_base_url()):
        raise ConfigError(
            "PUBLIC_URL must be an https:// address that Telegram can reach when "
            "TELEGRAM_MODE=webhook (http:// works only on a loopback address such as 127.0.0.1)."
        )
    return settings
