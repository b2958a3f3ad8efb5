"""What every handler and job can reach: created once in post_init, kept in bot_data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.callback_data import CallbackSigner
from services.context import Database
from services.notifying.notifier import Notifier
from services.settings import Settings

if TYPE_CHECKING:
    from services.drafting.listing_drafts import DraftMaker
    from services.drafting.printable_flyers import FlyerPrinter
    from services.generation.writer import Writer
    from services.publishing.graph_resources import GraphResources
    from services.scraping.listing_events import ListingEvents
    from services.scraping.scrape_pass import FetcherFactory

RUNTIME_KEY = "runtime"


@dataclass
class Runtime:
    """Shared clients and settings of the running bot.

    The optional fields are attached by post_init (writer, draft maker, flyer printer) or
    on first use (the Graph session); tests replace them to point the bot at fakes.
    """

    settings: Settings
    database: Database
    signer: CallbackSigner
    notifier: Notifier
    bot_username: str = ""
    writer: Writer | None = None
    draft_maker: DraftMaker | None = None
    # Prints a flyer-text draft's PNG preview and PDF at delivery; None sends the text alone.
    print_flyer: FlyerPrinter | None = None
    # Who hears of new homes and price drops after a scrape pass (the draft maker by default).
    listing_events: ListingEvents | None = None
    # How a scrape pass makes its fetcher; None = services.scraping's default fetcher.
    fetcher_factory: FetcherFactory | None = None
    # The Graph session, client and publisher: opened on first use (bot/jobs/publish_job.py).
    graph: GraphResources | None = None

    def is_admin(self, telegram_user_id: int | None) -> bool:
        """Whether this Telegram user may use admin commands."""
        return telegram_user_id is not None and telegram_user_id in self.settings.admin_ids


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The bot's runtime from a handler or job context."""
    value = context.application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
