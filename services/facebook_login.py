"""Connect with Facebook: the Login dialog link, its callback, and the agent's pick.

The flow (specs/EXTERNAL_APIS.md §5): /connect gives the agent a link to the Login dialog
with a signed, single-use, 15-minute `state` bound to the agent. Facebook sends the browser
back to our callback with a code (or an error). The callback exchanges the code for a user
token, swaps that for a long-lived one, checks the granted permissions, lists the agent's
Pages with their linked Instagram accounts and offers them in Telegram; the agent's pick is
validated and stored exactly as a pasted token is (`social_accounts.connect`).

The user token is never stored: Page tokens obtained with a long-lived user token do not
expire, so there is nothing to refresh with it. Offered Page tokens are kept encrypted
until the pick (or an hour) and then deleted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from db.base import utcnow
from db.repositories import facebook_logins as repo
from services import metrics, social_accounts
from services.context import Database
from services.errors import ConflictError, ServiceError
from services.publishing import GraphClient, PublishError
from services.publishing.graph_client import ParamValue
from services.settings import FACEBOOK_CALLBACK_PATH, Settings

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=15)
OFFER_TTL = timedelta(hours=1)
# Logins are kept a day after they expire, so a late reuse is still told "already used".
KEEP_LOGINS = timedelta(days=1)
# What posting needs (specs/EXTERNAL_APIS.md §5.5): Pages, then Instagram through its Page.
PAGE_PERMISSIONS = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")
IG_PERMISSIONS = ("instagram_basic", "instagram_content_publish")
SCOPES = PAGE_PERMISSIONS + IG_PERMISSIONS
# A Page role that can publish has one of these tasks.
PUBLISH_TASKS = frozenset({"CREATE_CONTENT", "MANAGE"})
ACCOUNTS_FIELDS = "id,name,access_token,tasks,instagram_business_account{id,username}"
MAX_ACCOUNT_PAGES = 10  # of 100 Pages each

_STATE_LABEL = b"rltr-mktg facebook login state v1"

CONNECTED = "Connected \N{EM DASH} you can go back to Telegram."
INVALID_LINK = (
    "This link is not valid; open /connect in Telegram and tap Connect with Facebook again."
)
EXPIRED_LINK = (
    "This link has expired (links work for 15 minutes); open /connect in Telegram for a new one."
)
USED_LINK = "This link was already used; open /connect in Telegram for a new one."
DENIED = (
    "You did not allow access on Facebook, so nothing was connected; open /connect in "
    "Telegram when you want to try again."
)
NO_PAGES = (
    "Facebook shared no Page that you can post to, so nothing was connected; open /connect "
    "again and select your business Page (your role on it must allow creating content)."
)
STALE_CODE = (
    "Facebook says this sign-in expired or was already finished; open /connect in Telegram "
    "for a new link."
)
UNREACHABLE = (
    "Facebook could not be reached to finish connecting; open /connect in Telegram and try "
    "again in a minute."
)
FAILED = (
    "Facebook refused to finish connecting; open /connect in Telegram and try again, and ask "
    "your administrator if it keeps failing."
)
APP_MISCONFIGURED = (
    "Facebook refused this bot's app settings, so nothing was connected; ask your "
    "administrator to check FACEBOOK_APP_ID and FACEBOOK_APP_SECRET."
)
NOT_AGENT = (
    "Only active agents linked in Telegram can connect accounts, so nothing was connected; "
    "ask your administrator."
)
STARTING = "The bot is starting; reload this page in a few seconds."
OFFER_GONE = "This choice has expired or was already made; use /connect to connect again."


def missing_permissions_message(missing: list[str]) -> str:
    """The sentence for a login that did not grant what posting needs."""
    return (
        f"Facebook did not grant {', '.join(missing)}, which posting needs, so nothing was "
        "connected; open /connect again and allow every permission asked."
    )


@dataclass
class FacebookApp:
    """The Meta app this process signs agents in with, and where Facebook sends them back."""

    app_id: str
    app_secret: str = field(repr=False)
    dialog_url: str
    # The public base URL once the web server listens (WEB_PORT=0 picks the port).
    public_url: Callable[[], str]
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(cls, settings: Settings, public_url: Callable[[], str]) -> FacebookApp | None:
        """The app from FACEBOOK_APP_ID/SECRET, or None when they are not set."""
        secret = settings.facebook_app_secret
        if not settings.facebook_login_enabled or secret is None:
            return None
        return cls(
            app_id=settings.facebook_app_id,
            app_secret=secret.get_secret_value(),
            dialog_url=settings.facebook_oauth_dialog_url,
            public_url=public_url,
        )

    @property
    def redirect_uri(self) -> str:
        """The callback URL; byte-identical in the dialog link and in the code exchange."""
        return self.public_url().rstrip("/") + FACEBOOK_CALLBACK_PATH

    def _state_key(self) -> bytes:
        return hmac.new(self.app_secret.encode("utf-8"), _STATE_LABEL, hashlib.sha256).digest()

    def sign_state(self, agent_id: uuid.UUID, issued_at: datetime) -> str:
        """A new state: agent, issue time and a random nonce, with an HMAC over them."""
        body = f"{_b64(agent_id.bytes)}.{int(issued_at.timestamp())}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def read_state(self, state: str) -> tuple[uuid.UUID, datetime] | None:
        """The agent and issue time of a state this app signed, or None."""
        body, _, mac = state.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            agent_id = uuid.UUID(bytes=_unb64(parts[0]))
            issued_at = datetime.fromtimestamp(int(parts[1]), tz=UTC)
        except (ValueError, binascii.Error, OverflowError):
            return None
        return agent_id, issued_at

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._state_key(), body.encode("ascii"), hashlib.sha256).digest()[:16])

    def dialog_link(self, state: str) -> str:
        """The Login dialog URL for `state`."""
        query = urlencode(
            {
                "client_id": self.app_id,
                "redirect_uri": self.redirect_uri,
                "state": state,
                "scope": ",".join(SCOPES),
                "response_type": "code",
                # Asks again for a permission the person declined on an earlier try.
                "auth_type": "rerequest",
            }
        )
        return f"{self.dialog_url}?{query}"


async def check_app(client: GraphClient, app: FacebookApp) -> str:
    """The app's name as Facebook knows it, read with the app access token (`id|secret`);
    raises `PublishError` when Facebook refuses the id or the secret."""
    answer = await client.get(app.app_id, f"{app.app_id}|{app.app_secret}", {"fields": "id,name"})
    return str(answer.get("name") or answer.get("id") or app.app_id)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


async def start_login(database: Database, app: FacebookApp, agent_id: uuid.UUID) -> str:
    """Record a new single-use state for the agent; the dialog URL to send them to."""
    now = app.clock()
    state = app.sign_state(agent_id, now)
    async with database.unit_of_work() as session:
        await repo.purge_expired(session, now=now, logins_before=now - KEEP_LOGINS)
        await repo.create_login(
            session, agent_id=agent_id, state_hash=_hash(state), expires_at=now + STATE_TTL
        )
    log.info("facebook login link issued", extra={"agent_id": str(agent_id)})
    return app.dialog_link(state)


@dataclass(frozen=True)
class PageOffer:
    """A Page the agent may pick (its token stays in the database)."""

    id: uuid.UUID
    page_name: str
    ig_username: str | None


class OfferSink(Protocol):
    """Where the agent hears about a finished login (their Telegram chat)."""

    async def offer_pages(self, chat_id: int, pages: list[PageOffer], note: str) -> None:
        """Show one button per Page to pick; `note` says what else to know (may be "")."""
        ...

    async def tell(self, chat_id: int, text: str) -> None:
        """Send one sentence."""
        ...


@dataclass(frozen=True)
class CallbackOutcome:
    """What the callback page says, with which HTTP status, and its kind (for the metrics)."""

    kind: str
    message: str
    status: int = 200


@dataclass(frozen=True)
class _Found:
    pages: list[repo.OfferedPage]
    note: str


class _LoginFailed(Exception):
    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


async def finish_login(
    database: Database,
    client: GraphClient,
    app: FacebookApp,
    sink: OfferSink,
    params: Mapping[str, str],
) -> CallbackOutcome:
    """Handle Facebook's redirect back (`params` is its query); never raises for the person.

    A forged, expired or reused state changes nothing and tells nobody in Telegram. Once
    the state is used up, the agent hears in Telegram how the login ended.
    """
    now = app.clock()
    read = app.read_state(params.get("state", ""))
    if read is None:
        log.info("facebook login callback with a state we did not sign")
        return _outcome("invalid", INVALID_LINK, 400)
    agent_id, issued_at = read
    if now >= issued_at + STATE_TTL:
        log.info("facebook login callback after expiry", extra={"agent_id": str(agent_id)})
        return _outcome("expired", EXPIRED_LINK, 400)
    state_hash = _hash(params["state"])
    async with database.unit_of_work() as session:
        login_id = await repo.claim_login(
            session, state_hash=state_hash, agent_id=agent_id, now=now
        )
        known = None if login_id is not None else await repo.login_state(session, state_hash)
        chat_id = await repo.agent_chat(session, agent_id)
    if login_id is None:
        log.info("facebook login state refused", extra={"agent_id": str(agent_id)})
        if known is not None and known[1] is not None:
            return _outcome("used", USED_LINK, 400)
        if known is not None:
            return _outcome("expired", EXPIRED_LINK, 400)
        return _outcome("invalid", INVALID_LINK, 400)
    if chat_id is None:
        # Deactivated (or unlinked) since the link was given: nothing to connect for.
        return _outcome("not_agent", NOT_AGENT, 403)
    try:
        found = await _pages_of_login(client, app, params, database.cipher.encrypt)
    except _LoginFailed as failed:
        log.info("facebook login ended", extra={"agent_id": str(agent_id), "why": failed.message})
        await sink.tell(chat_id, failed.message)
        return _outcome(failed.kind, failed.message, failed.status)
    async with database.unit_of_work() as session:
        rows = await repo.offer_pages(
            session,
            login_id=login_id,
            agent_id=agent_id,
            pages=found.pages,
            expires_at=now + OFFER_TTL,
        )
        offers = [PageOffer(r.id, r.page_name, r.ig_username) for r in rows]
    log.info(
        "facebook login offered pages", extra={"agent_id": str(agent_id), "pages": len(offers)}
    )
    await sink.offer_pages(chat_id, offers, found.note)
    return _outcome("offered", CONNECTED)


def _outcome(kind: str, message: str, status: int = 200) -> CallbackOutcome:
    metrics.FACEBOOK_LOGINS.labels(kind).inc()
    return CallbackOutcome(kind, message, status)


async def _pages_of_login(
    client: GraphClient,
    app: FacebookApp,
    params: Mapping[str, str],
    encrypt: Callable[[str], str],
) -> _Found:
    if params.get("error"):
        # Branch on `error`, never on its description: the wording changes (spec §5.2).
        raise _LoginFailed("denied", DENIED, 200)
    code = params.get("code", "")
    if not code:
        raise _LoginFailed("invalid", INVALID_LINK)
    app_auth = {"client_id": app.app_id, "client_secret": app.app_secret}
    short = await _token(
        client,
        {**app_auth, "redirect_uri": app.redirect_uri, "code": code},
        idempotent=False,  # a code works once
    )
    user_token = await _token(
        client,
        {**app_auth, "grant_type": "fb_exchange_token", "fb_exchange_token": short},
        idempotent=True,
    )
    granted = await _granted(client, user_token)
    missing = [p for p in PAGE_PERMISSIONS if p not in granted]
    if missing:
        raise _LoginFailed("missing_permissions", missing_permissions_message(missing), 200)
    with_instagram = all(p in granted for p in IG_PERMISSIONS)
    pages = await _publishable_pages(client, user_token, with_instagram, encrypt)
    if not pages:
        raise _LoginFailed("no_pages", NO_PAGES, 200)
    note = ""
    if not with_instagram:
        note = (
            "Instagram was not allowed, so only Facebook Pages are offered; to add Instagram, "
            "use /connect again and allow it."
        )
    return _Found(pages, note)


async def _graph(call: Any) -> Any:
    try:
        return await call
    except PublishError as exc:
        if exc.subcode in (36007, 36009):  # the code expired or was used (spec §5.3)
            raise _LoginFailed("stale_code", STALE_CODE) from None
        message = (exc.graph_message or "").lower()
        if exc.code == 101 or (exc.code == 1 and "client secret" in message):
            log.error("Facebook refused FACEBOOK_APP_ID or FACEBOOK_APP_SECRET: %s", message)
            raise _LoginFailed("app_settings", APP_MISCONFIGURED, 502) from None
        log.warning(
            "facebook login graph call failed",
            extra={"kind": exc.kind, "code": exc.code, "subcode": exc.subcode},
        )
        if exc.retryable:
            raise _LoginFailed("unreachable", UNREACHABLE, 502) from None
        raise _LoginFailed("failed", FAILED, 502) from None


async def _token(client: GraphClient, form: dict[str, str], *, idempotent: bool) -> str:
    # POST keeps the app secret and the tokens out of URLs that servers and proxies log.
    answer = await _graph(client.post("oauth/access_token", None, form, idempotent=idempotent))
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _LoginFailed("failed", FAILED, 502)
    return token


async def _granted(client: GraphClient, user_token: str) -> set[str]:
    answer = await _graph(client.get("me/permissions", user_token))
    rows = answer.get("data")
    return {
        str(row.get("permission"))
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict) and row.get("status") == "granted"
    }


async def _publishable_pages(
    client: GraphClient, user_token: str, with_instagram: bool, encrypt: Callable[[str], str]
) -> list[repo.OfferedPage]:
    found: list[repo.OfferedPage] = []
    after = ""
    for _ in range(MAX_ACCOUNT_PAGES):
        params: dict[str, ParamValue] = {
            "fields": ACCOUNTS_FIELDS,
            "limit": 100,
            "after": after or None,
        }
        answer = await _graph(client.get("me/accounts", user_token, params))
        for page in answer.get("data") or []:
            offered = _offered(page, with_instagram, encrypt)
            if offered is not None:
                found.append(offered)
        paging = answer.get("paging")
        paging = paging if isinstance(paging, dict) else {}
        cursors = paging.get("cursors")
        cursors = cursors if isinstance(cursors, dict) else {}
        # `next` is missing on the last page of results.
        after = str(cursors.get("after") or "") if paging.get("next") else ""
        if not after:
            break
    return found


def _offered(
    page: Any, with_instagram: bool, encrypt: Callable[[str], str]
) -> repo.OfferedPage | None:
    if not isinstance(page, dict):
        return None
    page_id, token = page.get("id"), page.get("access_token")
    tasks = page.get("tasks")
    if not page_id or not isinstance(token, str) or not token:
        return None
    if isinstance(tasks, list) and not PUBLISH_TASKS.intersection(tasks):
        return None  # a role that cannot post (e.g. analyst only)
    ig = page.get("instagram_business_account") if with_instagram else None
    ig_id = str(ig["id"]) if isinstance(ig, dict) and ig.get("id") else None
    ig_name = str(ig.get("username") or "") or None if isinstance(ig, dict) and ig_id else None
    return repo.OfferedPage(
        page_id=str(page_id),
        page_name=str(page.get("name") or page_id)[:200],
        page_token_encrypted=encrypt(token),
        ig_user_id=ig_id,
        ig_username=ig_name,
    )


@dataclass(frozen=True)
class Picked:
    """What a pick connected: the Page, and its Instagram account unless that failed."""

    connected: list[social_accounts.Connected]
    # Why the Page's Instagram account could not be connected (one sentence), if it could not.
    instagram_problem: str | None = None


async def pick_page(
    database: Database,
    client: GraphClient,
    *,
    agent_id: uuid.UUID,
    offer_id: uuid.UUID,
    now: datetime | None = None,
) -> Picked:
    """Connect the offered Page, then its Instagram account, with the Page token.

    Instagram publishes with the Page's token under Facebook Login (spec §5.7). The offers
    of that login are deleted afterwards. Raises `ServiceError` with one sentence when the
    Page cannot be connected (then nothing is).
    """
    now = now or utcnow()
    async with database.unit_of_work() as session:
        offer = await repo.offered_page(session, offer_id=offer_id, agent_id=agent_id, now=now)
        if offer is None:
            raise ConflictError(OFFER_GONE)
        token = database.cipher.decrypt(offer.page_token_encrypted, what="an offered Page token")
        login_id, page_id, ig_user_id = offer.login_id, offer.page_id, offer.ig_user_id
    connected = [
        await social_accounts.connect(
            database,
            client,
            agent_id=agent_id,
            platform="facebook",
            account_id=page_id,
            token=token,
        )
    ]
    problem = None
    if ig_user_id:
        try:
            connected.append(
                await social_accounts.connect(
                    database,
                    client,
                    agent_id=agent_id,
                    platform="instagram",
                    account_id=ig_user_id,
                    token=token,
                )
            )
        except ServiceError as exc:
            problem = exc.message
    async with database.unit_of_work() as session:
        await repo.drop_offers(session, login_id)
    log.info(
        "facebook login page picked",
        extra={"agent_id": str(agent_id), "accounts": len(connected), "ig_failed": bool(problem)},
    )
    return Picked(connected, problem)
