"""Facebook Login on the fake Graph server, faithful to specs/EXTERNAL_APIS.md §5.

Mount it on a running `FakeGraphApi`::

    login = FakeFacebookLogin(graph)
    login.allow_redirect("http://127.0.0.1:8080/auth/facebook/callback")
    login.person = FacebookPerson("5550001", "Chris Doe", [LoginPage(...)])

What it speaks:
- `GET /vNN.N/dialog/oauth` (on www.facebook.com in real life, on the fake's root here): the
  person signed in to Facebook (`person`) allows (302 to `redirect_uri?code=…&state=…#_=_`)
  or denies (`error=access_denied&error_reason=user_denied&error_description=…&state=…`),
  declining `person.declined` permissions. An unknown app or a redirect URI not listed
  answers Facebook's HTML error page and redirects nowhere.
- `GET|POST /oauth/access_token`: the code exchange (single use, byte-identical
  redirect_uri, a code lifetime) and `grant_type=fb_exchange_token`, with the error bodies of
  spec §5.3; `grant_type=authorization_code` is ignored.
- `GET /{app-id}` with the app access token `id|secret` (what `rltr-mktg doctor` checks).
- `GET /me/accounts` (fields, `limit`, `after` cursors, `paging.next` except on the last
  page; `instagram_business_account` only where one is linked) and `GET /me/permissions`.
Page tokens handed out by `me/accounts` are registered on the fake Graph with the granted
scopes, so they can be validated and can publish like any other token there.
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.graph_api.graph_faults import GraphFault
from tests.fakes.graph_api.records import FakeToken
from tests.fakes.graph_api.server import FakeGraphApi

APP_ID = "1234567890"
APP_SECRET = "fake-app-secret-0123456789abcdef"
PUBLISH_TASKS = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE")
SHORT_LIVED_S = 2 * 3600
LONG_LIVED_S = 5_183_944  # about 60 days, as Meta answers
CODE_LIFETIME_S = 600


@dataclass
class LoginPage:
    """A Page the person manages, with its Page token and maybe a linked IG account."""

    page_id: str
    name: str
    token: str
    tasks: tuple[str, ...] = PUBLISH_TASKS
    ig_user_id: str | None = None
    ig_username: str | None = None


@dataclass
class FacebookPerson:
    """Who is signed in to facebook.com in the browser, and what they will answer."""

    user_id: str
    name: str
    pages: list[LoginPage] = field(default_factory=list)
    decision: Literal["allow", "deny"] = "allow"
    declined: tuple[str, ...] = ()


@dataclass
class CodeGrant:
    code: str
    person: FacebookPerson
    redirect_uri: str
    granted: tuple[str, ...]
    declined: tuple[str, ...]
    issued_at: float
    used: bool = False


@dataclass
class UserGrant:
    person: FacebookPerson
    granted: tuple[str, ...]
    declined: tuple[str, ...]
    long_lived: bool


class FakeFacebookLogin:
    """The dialog, the token endpoints and the Page listing; see the module docstring."""

    def __init__(
        self,
        graph: FakeGraphApi,
        *,
        app_id: str = APP_ID,
        app_secret: str = APP_SECRET,
        code_expires_in: int = SHORT_LIVED_S,
    ) -> None:
        self.graph = graph
        self.app_id = app_id
        self.app_secret = app_secret
        self.code_expires_in = code_expires_in
        self.redirect_uris: set[str] = set()
        self.person: FacebookPerson | None = None
        self.codes: dict[str, CodeGrant] = {}
        self.user_tokens: dict[str, UserGrant] = {}
        self.dialogs: list[dict[str, Any]] = []
        # Meta caps `limit`; a small cap makes a test walk `paging.next`.
        self.max_limit = 100
        graph.extensions.append(self.handle)

    @property
    def dialog_url(self) -> str:
        """What `FACEBOOK_OAUTH_DIALOG_URL` should be set to."""
        return f"{self.graph.root_url}/{self.graph.version}/dialog/oauth"

    def allow_redirect(self, uri: str) -> None:
        """List `uri` under the app's "Valid OAuth Redirect URIs"."""
        self.redirect_uris.add(uri)

    # ------------------------------------------------------------ routing

    def handle(
        self, method: str, path: str, params: dict[str, Any], token: str | None
    ) -> dict[str, Any] | web.StreamResponse | None:
        if path == "/dialog/oauth" and method == "GET":
            return self._dialog(params)
        if path == "/oauth/access_token" and method in ("GET", "POST"):
            return self._access_token(params)
        if path == f"/{self.app_id}" and method == "GET":
            return self._app(token)
        if path == "/me/accounts" and method == "GET":
            return self._accounts(self._user(token), params)
        if path == "/me/permissions" and method == "GET":
            return self._permissions(self._user(token))
        return None

    # ------------------------------------------------------------ the app

    def _app(self, token: str | None) -> dict[str, Any]:
        """The app node, read with the app access token `id|secret`."""
        if token != f"{self.app_id}|{self.app_secret}":
            raise GraphFault(190, "Invalid OAuth access token signature.")
        return {"id": self.app_id, "name": "rltr-mktg test app"}

    # ------------------------------------------------------------ the dialog

    def _dialog(self, params: dict[str, Any]) -> web.StreamResponse:
        self.dialogs.append(dict(params))
        if params.get("client_id") != self.app_id:
            return _page("Invalid App ID: The provided app ID does not look like a valid app ID.")
        uri = str(params.get("redirect_uri", ""))
        if uri not in self.redirect_uris:
            return _page(
                "URL Blocked: This redirect failed because the redirect URI is not "
                "whitelisted in the app's Client OAuth Settings."
            )
        person = self.person
        if person is None:
            return _page("Log into Facebook to continue.")
        state = {"state": params["state"]} if "state" in params else {}
        if person.decision == "deny":
            query = urlencode(
                {
                    "error": "access_denied",
                    "error_code": "200",
                    "error_description": "Permissions error.",
                    "error_reason": "user_denied",
                    **state,
                }
            )
            raise web.HTTPFound(f"{uri}?{query}#_=_")
        asked = tuple(s for s in str(params.get("scope", "")).replace(" ", ",").split(",") if s)
        granted = tuple(s for s in asked if s not in person.declined)
        declined = tuple(s for s in asked if s in person.declined)
        code = "AQ" + secrets.token_urlsafe(48)
        self.codes[code] = CodeGrant(code, person, uri, granted, declined, time.time())
        raise web.HTTPFound(f"{uri}?{urlencode({'code': code, **state})}#_=_")

    # ------------------------------------------------------------ tokens

    def _access_token(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("client_id") != self.app_id:
            raise GraphFault(101, "Error validating application. Invalid application ID.")
        if params.get("client_secret") != self.app_secret:
            raise GraphFault(1, "Error validating client secret.")
        if params.get("grant_type") == "fb_exchange_token":
            grant = self.user_tokens.get(str(params.get("fb_exchange_token", "")))
            if grant is None:
                raise GraphFault(190, "Invalid OAuth access token - Cannot parse access token")
            return self._mint(grant.person, grant.granted, grant.declined, long_lived=True)
        code = self.codes.get(str(params.get("code", "")))
        if code is None:
            raise GraphFault(100, "Invalid verification code format.")
        if code.used:
            raise GraphFault(100, "This authorization code has been used.", subcode=36009)
        if time.time() - code.issued_at > CODE_LIFETIME_S:
            raise GraphFault(100, "This authorization code has expired.", subcode=36007)
        if params.get("redirect_uri") != code.redirect_uri:
            raise GraphFault(
                100,
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request",
                subcode=36008,
            )
        code.used = True
        return self._mint(code.person, code.granted, code.declined, long_lived=False)

    def _mint(
        self,
        person: FacebookPerson,
        granted: tuple[str, ...],
        declined: tuple[str, ...],
        *,
        long_lived: bool,
    ) -> dict[str, Any]:
        token = "EAAG" + secrets.token_urlsafe(40).replace("-", "x").replace("_", "y")
        expires_in = LONG_LIVED_S if long_lived else self.code_expires_in
        self.graph.tokens[token] = FakeToken(
            token,
            "USER",
            None,
            user_id=person.user_id,
            user_name=person.name,
            scopes=("public_profile", *granted),
            expires_at=int(time.time()) + expires_in,
        )
        self.user_tokens[token] = UserGrant(person, granted, declined, long_lived)
        return {"access_token": token, "token_type": "bearer", "expires_in": expires_in}

    def _user(self, token: str | None) -> UserGrant:
        self.graph._auth(token)  # the fake Graph's token checks: missing, unknown, expired
        grant = self.user_tokens.get(token or "")
        if grant is None:
            raise GraphFault(
                100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
            )
        return grant

    # ------------------------------------------------------------ Pages and permissions

    def _permissions(self, grant: UserGrant) -> dict[str, Any]:
        rows = [{"permission": "public_profile", "status": "granted"}]
        rows += [{"permission": s, "status": "granted"} for s in grant.granted]
        rows += [{"permission": s, "status": "declined"} for s in grant.declined]
        return {"data": rows}

    def _accounts(self, grant: UserGrant, params: dict[str, Any]) -> dict[str, Any]:
        if "pages_show_list" not in grant.granted:
            raise GraphFault(10, "(#10) Application does not have permission for this action")
        fields = str(params.get("fields", "id,name"))
        limit = max(1, min(int(params.get("limit", 25)), self.max_limit))
        start = _cursor_index(params.get("after"))
        pages = grant.person.pages[start : start + limit]
        data = [self._page_entry(page, grant, fields) for page in pages]
        out: dict[str, Any] = {"data": data}
        if data:
            out["paging"] = {
                "cursors": {"before": _cursor(start), "after": _cursor(start + len(data) - 1)},
            }
            if start + limit < len(grant.person.pages):
                after = _cursor(start + len(data) - 1)
                query = urlencode({"fields": fields, "limit": limit, "after": after})
                out["paging"]["next"] = f"{self.graph.base_url}/me/accounts?{query}"
        return out

    def _page_entry(self, page: LoginPage, grant: UserGrant, fields: str) -> dict[str, Any]:
        # Handing out the Page token makes it a working token on the fake Graph.
        self.graph.add_page(page.page_id, page.token, page.name, scopes=grant.granted)
        self.graph.tokens[page.token].scopes = grant.granted
        entry: dict[str, Any] = {"id": page.page_id}
        if "name" in fields:
            entry["name"] = page.name
        if "access_token" in fields:
            entry["access_token"] = page.token
        if "tasks" in fields:
            entry["tasks"] = list(page.tasks)
        if page.ig_user_id and "instagram_business_account" in fields:
            self.graph.add_ig_user(
                page.ig_user_id,
                page.token,
                page.ig_username or page.ig_user_id,
                scopes=grant.granted,
            )
            entry["instagram_business_account"] = {
                "id": page.ig_user_id,
                "username": page.ig_username or "",
            }
        return entry


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")


def _cursor_index(value: Any) -> int:
    if not value:
        return 0
    text = str(value)
    return int(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()) + 1


def _page(message: str) -> web.Response:
    """Facebook's error page: shown in the browser, nothing is redirected."""
    return web.Response(
        text=f"<html><body><h1>{html.escape(message)}</h1></body></html>",
        content_type="text/html",
    )
