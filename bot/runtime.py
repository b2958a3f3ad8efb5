"""What every handler and job can reach: created once in post_init, kept in bot_data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import ContextTypes

from bot.callback_data import CallbackSigner
from services.context import Database
from services.notifying.notifier import Notifier
from services.settings import Settings

RUNTIME_KEY = "runtime"


@dataclass
class Runtime:
    """Shared clients and settings of the running bot."""

    settings: Settings
    database: Database
    signer: CallbackSigner
    notifier: Notifier
    bot_username: str = ""
    # Telegram-free services attached by later wiring (writer, HTTP sessions, ...).
    extras: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, telegram_user_id: int | None) -> bool:
        """Whether this Telegram user may use admin commands."""
        return telegram_user_id is not None and telegram_user_id in self.settings.admin_ids


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The bot's runtime from a handler or job context."""
    value = context.application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
