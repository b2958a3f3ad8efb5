"""Connect with Facebook end to end: the real process (bot + web server, rltr_mktg/process.py)
behind the fake Telegram, a real aiohttp client as the browser following the fake Login
dialog's redirect to our callback, and the fake Graph's token exchanges and Page listing."""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.app import build_application
from bot.handlers.facebook_connect import FACEBOOK_APP_KEY
from bot.updates import RECEIVING_KEY
from db.base import utcnow
from db.models import Agent, FacebookLogin, FacebookLoginPage, SocialMediaAccount
from rltr_mktg.process import serve, web_server
from services import facebook_login, metrics
from services.context import Database
from services.facebook_login import FacebookApp
from services.settings import load_settings
from tests.factories import make_agent
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_api.facebook_login import (
    APP_ID,
    APP_SECRET,
    FacebookPerson,
    FakeFacebookLogin,
    LoginPage,
)
from tests.fakes.telegram_api import FakeMessage, FakeTelegram, FakeUser, FloodLimits
from web.server import WebServer

AGENT_TG = 4242
PAGE_ID = "104857392018374"
PAGE_TOKEN = "EAAGpageTokenSunnyHomes0123456789abcdefghijkl"
IG_ID = "17841400000000001"
LAKE_ID = "200000000000002"
LAKE_TOKEN = "EAAGpageTokenLakeHomes0123456789abcdefghijklm"
ANALYST_PAGE = LoginPage(
    "200000000000003", "Analytics Only", "EAAGanalyst0123456789abcdefgh", tasks=("ANALYZE",)
)
CONNECTED = "Connected \N{EM DASH} you can go back to Telegram"


@dataclass
class Running:
    """The process, its fakes and the agent's Telegram user."""

    telegram: FakeTelegram
    graph: FakeGraphApi
    login: FakeFacebookLogin
    database: Database
    server: WebServer
    meta_app: FacebookApp
    chris: FakeUser
    agent: Agent
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/auth/facebook/callback"

    async def connect_link(self) -> tuple[FakeMessage, str]:
        """/connect in Telegram; the message and the URL of its Connect with Facebook button."""
        await self.chris.send_command("/connect")
        reply = await self.chris.next_message()
        return reply, str(reply.button("Connect with Facebook")["url"])

    async def accounts(self) -> list[tuple[str, str, str]]:
        async with self.database.unit_of_work() as s:
            rows = (await s.execute(select(SocialMediaAccount))).scalars().all()
        return sorted(
            (r.platform, r.account_id, self.database.cipher.decrypt(r.access_token_encrypted))
            for r in rows
        )

    async def offered(self) -> int:
        async with self.database.unit_of_work() as s:
            return int(await s.scalar(select(func.count()).select_from(FacebookLoginPage)) or 0)


def sunny_person(**values: object) -> FacebookPerson:
    pages = [
        LoginPage(PAGE_ID, "Sunny Homes", PAGE_TOKEN, ig_user_id=IG_ID, ig_username="sunnyhomes"),
        LoginPage(LAKE_ID, "Lake Homes", LAKE_TOKEN),
        # A role that cannot post is never offered.
        ANALYST_PAGE,
    ]
    return FacebookPerson("5550001", "Chris Doe", **{"pages": pages, **values})  # type: ignore[arg-type]


@asynccontextmanager
async def run_process(
    database: Database, tmp_path: Path, *, with_app: bool = True
) -> AsyncIterator[Running]:
    """`rltr-mktg run` (polling, no jobs) with the fakes; a Meta app configured or not."""
    async with (
        FakeTelegram(flood=FloodLimits(enabled=False)) as telegram,
        FakeGraphApi() as graph,
    ):
        login = FakeFacebookLogin(graph)
        meta = {
            "facebook_app_id": APP_ID,
            "facebook_app_secret": APP_SECRET,
            "facebook_oauth_dialog_url": login.dialog_url,
        }
        settings = load_settings(
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            data_dir=tmp_path,
            default_timezone="UTC",
            web_host="127.0.0.1",
            web_port=0,
            graph_api_base_url=graph.base_url,
            _env_file=None,
            **(meta if with_app else {}),
        )
        app = build_application(settings, database=database, with_jobs=False)
        server = web_server(settings, app)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, app, server, stop))
        async with asyncio.timeout(10):
            while app.bot_data.get(RECEIVING_KEY) != "polling":
                await asyncio.sleep(0.01)
        async with database.unit_of_work() as s:
            agent = await make_agent(s, name="Chris Doe", telegram_user_id=AGENT_TG)
        meta_app = app.bot_data.get(FACEBOOK_APP_KEY)
        assert isinstance(meta_app, FacebookApp) == with_app
        run = Running(
            telegram,
            graph,
            login,
            database,
            server,
            meta_app,  # type: ignore[arg-type]
            telegram.user(AGENT_TG, "Chris"),
            agent,
            stop,
            task,
        )
        login.allow_redirect(run.callback_url)
        try:
            yield run
        finally:
            stop.set()
            await task


@pytest.fixture
async def running(database: Database, tmp_path: Path) -> AsyncIterator[Running]:
    async with run_process(database, tmp_path) as run:
        yield run


def _logins(outcome: str) -> float:
    """The /metrics count of dialog returns with this outcome."""
    value = metrics.REGISTRY.get_sample_value(
        "rltr_mktg_facebook_logins_total", {"outcome": outcome}
    )
    return value or 0.0


async def browse(url: str) -> tuple[int, str, str]:
    """Open `url` as a browser would, following redirects: status, final URL, page text."""
    async with aiohttp.ClientSession() as browser, browser.get(url) as resp:
        return resp.status, str(resp.url), await resp.text()


async def test_connect_with_facebook_offers_pages_and_the_pick_stores_page_and_instagram(
    running: Running,
) -> None:
    r = running
    r.login.person = sunny_person()
    prompt, url = await r.connect_link()
    assert "15 minutes" in prompt.content

    # The link is the Login dialog, for our app, asking what publishing needs.
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == r.login.dialog_url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["client_id"] == APP_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == r.callback_url
    assert set(query["scope"].split(",")) == {
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "instagram_content_publish",
    }
    assert r.meta_app.read_state(query["state"]) is not None

    status, final, text = await browse(url)
    assert final.startswith(r.callback_url + "?code=")
    assert status == 200 and CONNECTED in text

    offer = await r.chris.next_message()
    assert "Which Page" in offer.content
    assert offer.button_labels == ["Sunny Homes + Instagram @sunnyhomes", "Lake Homes"]
    assert await r.accounts() == []  # nothing is connected before the pick
    assert await r.offered() == 2

    # The code was exchanged once, then swapped for a long-lived token; no secret in a URL.
    exchanges = r.graph.graph_calls(path="/oauth/access_token")
    assert [c.method for c in exchanges] == ["POST", "POST"]
    assert [c.token for c in exchanges] == [None, None]  # the app authenticates by id+secret
    assert exchanges[1].params["grant_type"] == "fb_exchange_token"
    assert not [c for c in r.graph.calls if APP_SECRET in c.url]

    sunny = str(offer.button("Sunny Homes")["callback_data"])
    qid = await r.chris.tap(offer.message_id, "Sunny Homes")
    assert (await r.telegram.wait_answer(qid)).answered
    await r.chris.wait_for(lambda: offer.edits or None)
    assert "Connected Facebook Sunny Homes and Instagram" in offer.content
    assert offer.buttons == []
    assert await r.accounts() == [
        ("facebook", PAGE_ID, PAGE_TOKEN),
        ("instagram", IG_ID, PAGE_TOKEN),  # Instagram publishes with its Page's token
    ]
    # The offers (and their tokens) are gone; no user token was ever stored.
    assert await r.offered() == 0
    user_tokens = set(r.login.user_tokens)
    assert len(user_tokens) == 2
    assert not user_tokens & {token for _, _, token in await r.accounts()}

    # The same choice again changes nothing and says why.
    qid = await r.chris.tap_data(offer.message_id, sunny)
    answer = await r.telegram.wait_answer(qid)
    assert "expired or was already made" in str(answer.text)
    assert len(await r.accounts()) == 2


async def test_a_used_link_changes_nothing_and_says_so(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    assert CONNECTED in (await browse(url))[2]
    await r.chris.next_message()
    calls, seen = len(r.graph.calls), len(r.chris.messages)

    # The dialog gives a fresh code, but the state was used: refused before any exchange.
    status, _, text = await browse(url)
    assert status == 400
    assert text.count("already used") == 1 and "/connect" in text
    assert [c for c in r.graph.calls[calls:] if c.path == "/oauth/access_token"] == []
    await asyncio.sleep(0.2)
    assert len(r.chris.messages) == seen  # nothing new in Telegram
    assert await r.offered() == 2 and await r.accounts() == []


async def test_denied_access_changes_nothing_and_tells_the_agent(running: Running) -> None:
    r = running
    r.login.person = sunny_person(decision="deny")
    _, url = await r.connect_link()
    before = _logins("denied")
    status, final, text = await browse(url)
    assert _logins("denied") == before + 1
    assert "error=access_denied" in final
    assert status == 200 and "You did not allow access on Facebook" in text
    told = await r.chris.next_message()
    assert "You did not allow access on Facebook" in told.content and told.buttons == []
    assert r.graph.graph_calls(path="/oauth/access_token") == []
    assert await r.accounts() == [] and await r.offered() == 0


async def test_an_expired_link_changes_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    seen = len(r.chris.messages)
    r.meta_app.clock = lambda: utcnow() + timedelta(minutes=15, seconds=1)
    status, _, text = await browse(url)
    assert status == 400 and "This link has expired" in text
    assert r.graph.graph_calls(path="/oauth/access_token") == []
    await asyncio.sleep(0.2)
    assert len(r.chris.messages) == seen  # nothing new in Telegram
    assert await r.accounts() == [] and await r.offered() == 0
    async with r.database.unit_of_work() as s:
        assert (await s.execute(select(FacebookLogin.used_at))).scalar_one() is None

    # Just inside the 15 minutes, the same link still works.
    r.meta_app.clock = lambda: utcnow() + timedelta(minutes=14, seconds=50)
    assert CONNECTED in (await browse(url))[2]


async def test_no_pages_to_post_to_changes_nothing(running: Running) -> None:
    r = running
    r.login.person = FacebookPerson(
        "5550002",
        "Chris Doe",
        [ANALYST_PAGE],
    )
    _, url = await r.connect_link()
    status, _, text = await browse(url)
    assert status == 200 and "Facebook shared no Page that you can post to" in text
    assert "Facebook shared no Page" in (await r.chris.next_message()).content
    assert await r.accounts() == [] and await r.offered() == 0


async def test_missing_permissions_change_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person(declined=("pages_manage_posts",))
    _, url = await r.connect_link()
    status, _, text = await browse(url)
    assert status == 200
    assert "Facebook did not grant pages_manage_posts, which posting needs" in text
    told = await r.chris.next_message()
    assert "pages_manage_posts" in told.content and told.buttons == []
    assert r.graph.graph_calls(path="/me/accounts") == []
    assert await r.accounts() == [] and await r.offered() == 0


async def test_declined_instagram_offers_pages_only(running: Running) -> None:
    r = running
    r.login.person = sunny_person(declined=("instagram_content_publish",))
    _, url = await r.connect_link()
    assert CONNECTED in (await browse(url))[2]
    offer = await r.chris.next_message()
    assert offer.button_labels == ["Sunny Homes", "Lake Homes"]
    assert "Instagram was not allowed" in offer.content
    await r.chris.tap(offer.message_id, "Sunny Homes")
    await r.chris.wait_for(lambda: offer.edits or None)
    assert await r.accounts() == [("facebook", PAGE_ID, PAGE_TOKEN)]


async def test_a_forged_state_is_refused(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    state = parse_qs(urlsplit(url).query)["state"][0]
    other = facebook_login.FacebookApp(APP_ID, "another secret", "", lambda: "")
    forged = other.sign_state(r.agent.id, utcnow())
    before = _logins("invalid")
    status, _, text = await browse(url.replace(state, forged))
    assert _logins("invalid") == before + 1
    assert status == 400 and "This link is not valid" in text
    assert r.graph.graph_calls(path="/oauth/access_token") == []
    assert await r.accounts() == [] and await r.offered() == 0


async def test_pages_are_read_across_every_result_page(running: Running) -> None:
    r = running
    r.login.max_limit = 1
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    assert CONNECTED in (await browse(url))[2]
    offer = await r.chris.next_message()
    assert offer.button_labels == ["Sunny Homes + Instagram @sunnyhomes", "Lake Homes"]
    listings = r.graph.graph_calls(path="/me/accounts")
    assert len(listings) == 3  # one Page per answer; the last has no `next`
    assert [bool(c.params.get("after")) for c in listings] == [False, True, True]


async def test_a_code_facebook_refuses_changes_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    r.graph.fail_next(
        "/oauth/access_token",
        code=100,
        subcode=36009,
        message="This authorization code has been used.",
    )
    _, url = await r.connect_link()
    status, _, text = await browse(url)
    assert status == 400 and "this sign-in expired or was already finished" in text
    assert "expired or was already finished" in (await r.chris.next_message()).content
    assert await r.accounts() == [] and await r.offered() == 0


async def test_a_refused_app_secret_says_so_and_changes_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    r.login.app_secret = "rotated-in-the-meta-dashboard"
    _, url = await r.connect_link()
    status, _, text = await browse(url)
    assert status == 502
    assert "Facebook refused this bot's app settings" in html.unescape(text)
    assert "FACEBOOK_APP_SECRET" in text
    assert "ask your administrator" in (await r.chris.next_message()).content
    assert await r.accounts() == [] and await r.offered() == 0


async def test_without_an_app_connect_asks_for_a_pasted_token(
    database: Database, tmp_path: Path
) -> None:
    async with run_process(database, tmp_path, with_app=False) as r:
        await r.chris.send_command("/connect")
        reply = await r.chris.next_message()
        assert reply.button_labels == ["Facebook Page", "Instagram"]
        assert all("url" not in b for b in reply.buttons)
        status, _, _ = await browse(r.callback_url + "?code=x&state=y")
        assert status == 404


def test_a_state_is_bound_to_the_agent_and_the_secret() -> None:
    app = FacebookApp(APP_ID, APP_SECRET, "https://www.facebook.com/v27.0/dialog/oauth", str)
    agent, other = uuid.uuid4(), uuid.uuid4()
    now = utcnow().replace(microsecond=0)
    state = app.sign_state(agent, now)
    assert app.read_state(state) == (agent, now)
    assert app.sign_state(agent, now) != state  # a fresh nonce every time
    body, mac = state.rsplit(".", 1)
    swapped = app.sign_state(other, now).split(".")[0] + "." + body.split(".", 1)[1]
    assert app.read_state(f"{swapped}.{mac}") is None
    assert app.read_state(state[:-1] + ("A" if state[-1] != "A" else "B")) is None
    assert FacebookApp(APP_ID, "rotated", "", str).read_state(state) is None
    for junk in ("", ".", "a.b.c.d", "x" * 300):
        assert app.read_state(junk) is None


async def test_an_instagram_account_that_fails_leaves_the_page_connected(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    assert CONNECTED in (await browse(url))[2]
    offer = await r.chris.next_message()
    r.graph.fail_next(f"/{IG_ID}", code=10, message="(#10) Application does not have permission")
    await r.chris.tap(offer.message_id, "Sunny Homes")
    await r.chris.wait_for(lambda: offer.edits or None)
    assert "Connected Facebook Sunny Homes." in offer.content
    assert "Its Instagram account was not connected" in offer.content
    assert await r.accounts() == [("facebook", PAGE_ID, PAGE_TOKEN)]
    assert await r.offered() == 0


async def test_two_redirects_with_one_state_offer_pages_once(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    results = await asyncio.gather(browse(url), browse(url))
    assert sorted(status for status, _, _ in results) == [200, 400]
    assert sum(CONNECTED in text for _, _, text in results) == 1
    offer = await r.chris.next_message()
    assert len(offer.buttons) == 2
    await asyncio.sleep(0.2)
    assert r.chris.messages[-1] is offer
    assert len(r.graph.graph_calls(path="/me/accounts")) == 1
    assert await r.offered() == 2


async def test_a_deactivated_agent_connects_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    async with r.database.unit_of_work() as s:
        await s.execute(update(Agent).values(is_active=False))
    status, _, text = await browse(url)
    assert status == 403 and "Only active agents linked in Telegram" in text
    assert r.graph.graph_calls(path="/oauth/access_token") == []
    assert await r.accounts() == [] and await r.offered() == 0


async def test_a_page_pick_by_an_agent_deactivated_since_is_refused_in_a_popup(
    running: Running,
) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    status, _, _ = await browse(url)
    assert status == 200
    offer = await r.chris.next_message()
    async with r.database.unit_of_work() as s:
        await s.execute(update(Agent).values(is_active=False))

    answer = await r.telegram.wait_answer(await r.chris.tap(offer.message_id, "Sunny Homes"))
    assert answer.show_alert
    assert "Only agents can connect accounts" in str(answer.text)
    assert await r.accounts() == [] and await r.offered() == 2
    assert offer.edits == [] and offer.button_labels[0].startswith("Sunny Homes")


async def test_a_forged_page_button_is_not_valid_and_connects_nothing(running: Running) -> None:
    r = running
    r.login.person = sunny_person()
    _, url = await r.connect_link()
    await browse(url)
    offer = await r.chris.next_message()
    real = str(offer.button("Sunny Homes")["callback_data"])
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")

    answer = await r.telegram.wait_answer(await r.chris.tap_data(offer.message_id, forged))
    assert answer.text == "This button is not valid."
    assert await r.accounts() == [] and await r.offered() == 2
