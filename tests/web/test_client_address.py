"""The client's address behind reverse proxies: X-Forwarded-For is read only as far as
TRUSTED_PROXY_HOPS says, and the dashboard's sign-in limit counts the real client."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from db.models import LoginAttempt
from services import dashboard_auth as auth
from services.context import Database
from tests.web.dashboard_kit import PASSWORD, csrf_in, dashboard_app, make_user, serve
from web.client_address import client_address


@pytest.mark.parametrize(
    ("headers", "hops", "expected"),
    [
        (["203.0.113.7"], 0, "10.0.0.2"),  # no proxy configured: the header is ignored
        (["203.0.113.7"], 1, "203.0.113.7"),
        (["6.6.6.6, 203.0.113.7"], 1, "203.0.113.7"),  # what the client wrote is ignored
        (["6.6.6.6, 203.0.113.7"], 2, "6.6.6.6"),
        (["6.6.6.6", "203.0.113.7"], 1, "203.0.113.7"),  # several headers read in order
        (["203.0.113.7"], 2, "10.0.0.2"),  # fewer entries than proxies: the peer
        (["not-an-address"], 1, "10.0.0.2"),
        (["2001:db8::1"], 1, "2001:db8::1"),
        ([], 1, "10.0.0.2"),
    ],
)
def test_the_client_is_the_entry_the_outermost_proxy_added(
    headers: list[str], hops: int, expected: str
) -> None:
    assert client_address("10.0.0.2", headers, hops) == expected


async def _sign_in(client: Any, email: str, password: str, forwarded_for: str) -> Any:
    headers = {"X-Forwarded-For": forwarded_for}
    page = await client.get("/login", headers=headers)
    return await client.post(
        "/login",
        data={"csrf": csrf_in(await page.text()), "email": email, "password": password},
        headers=headers,
        allow_redirects=False,
    )


async def _attempt_addresses(database: Database) -> set[str]:
    async with database.unit_of_work() as s:
        return {a.address for a in (await s.execute(select(LoginAttempt))).scalars()}


async def test_behind_a_proxy_one_client_locked_out_does_not_lock_out_the_others(
    database: Database,
) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database, proxy_hops=1)) as client:
        for _ in range(auth.MAX_FAILED_LOGINS):
            wrong = await _sign_in(client, email, "wrong password!!", "203.0.113.7")
            assert wrong.status == 401
        locked = await _sign_in(client, email, PASSWORD, "203.0.113.7")
        assert locked.status == 429
        # The broker at the office, behind the same proxy, still signs in.
        assert (await _sign_in(client, email, PASSWORD, "198.51.100.4")).status == 303
    assert await _attempt_addresses(database) == {"203.0.113.7"}


async def test_without_a_proxy_a_forged_header_does_not_escape_the_limit(
    database: Database,
) -> None:
    email = await make_user(database, admin=True)
    async with serve(dashboard_app(database)) as client:
        for n in range(auth.MAX_FAILED_LOGINS):
            wrong = await _sign_in(client, email, "wrong password!!", f"203.0.113.{n}")
            assert wrong.status == 401
        assert (await _sign_in(client, email, PASSWORD, "198.51.100.4")).status == 429
    assert await _attempt_addresses(database) == {"127.0.0.1"}
