"""The dashboard's rules without HTTP: password strength, add-user, CSRF tokens, who gets
a login link, the price chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services import dashboard_auth as auth
from services.crypto import verify_password
from services.errors import ConflictError, InvalidInputError
from services.rendering.price_svg import PricePoint, price_chart_svg, price_steps
from tests.factories import make_agent


@pytest.mark.parametrize(
    "password",
    [
        "short pass",
        "password1234",
        "PASSWORD1234",
        "123456789012",
        "abcdefghijklmn",
        "aaaaaaaaaaaa",
        "abababababab",
        "abcabcabcabc",
        "chris.doe.realty",
        "qwerty123456",
    ],
)
def test_weak_passwords_are_refused_with_a_sentence(password: str) -> None:
    problem = auth.password_problem(password, "chris.doe.realty@example.com")
    assert problem is not None and problem.endswith(".") and problem.count(".") <= 2


@pytest.mark.parametrize("password", ["tangerine rocket ladder", "Kx9!pQ2#mW7z", "ölçü-şekil-yol"])
def test_good_passwords_pass(password: str) -> None:
    assert auth.password_problem(password, "chris@example.com") is None


def test_csrf_tokens_are_per_session_and_checked_in_constant_time() -> None:
    one, two = auth.csrf_token("session-one"), auth.csrf_token("session-two")
    assert one != two and len(one) == 64
    assert auth.csrf_ok("session-one", one)
    assert not auth.csrf_ok("session-one", two)
    assert not auth.csrf_ok("session-one", "")
    assert not auth.csrf_ok("session-one", one[:-1] + "Ω")


async def test_add_user_checks_what_it_is_given(session: AsyncSession) -> None:
    agent = await make_agent(session, email="chris@example.com")
    cases = [
        ({"email": "not-an-email", "is_admin": True}, "is not an email address"),
        ({"email": "a@example.com"}, "--agent AGENT_EMAIL"),
        ({"email": "a@example.com", "agent_email": "pat@example.com"}, "No agent has the email"),
        ({"email": "a@example.com", "is_admin": True, "password": "password1234"}, "too common"),
    ]
    for values, words in cases:
        values.setdefault("password", "tangerine rocket ladder")
        with pytest.raises(InvalidInputError, match=words):
            await auth.add_user(session, **values)  # type: ignore[arg-type]
    user = await auth.add_user(
        session,
        email=" Desk@Example.com ",
        password="tangerine rocket ladder",
        agent_email="CHRIS@example.com",
    )
    assert user.email == "desk@example.com" and user.agent_id == agent.id and not user.is_admin
    assert verify_password(user.password_hash, "tangerine rocket ladder")
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(ConflictError, match="has a dashboard login already"):
        await auth.add_user(
            session,
            email="other@example.com",
            password="tangerine rocket ladder",
            agent_email="chris@example.com",
        )
    with pytest.raises(ConflictError, match="exists already"):
        await auth.add_user(
            session, email="desk@example.com", password="tangerine rocket ladder", is_admin=True
        )


async def test_a_user_made_by_a_link_has_no_password(session: AsyncSession) -> None:
    agent = await make_agent(session)
    assert agent.telegram_user_id is not None
    await auth.issue_login_link(
        session, telegram_user_id=agent.telegram_user_id, is_admin=False, now=datetime.now(UTC)
    )
    signed = await auth.sign_in_with_password(
        session,
        email=agent.email,
        password=auth.NO_PASSWORD,
        address="1.2.3.4",
        now=datetime.now(UTC),
    )
    assert signed.error == auth.BAD_LOGIN


def test_price_steps_and_chart() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    steps = price_steps(
        [
            (t0 + timedelta(days=10), Decimal("400000"), Decimal("380000")),
            (t0 + timedelta(days=20), Decimal("380000"), Decimal("375000")),
        ],
        Decimal("375000"),
        t0 + timedelta(days=30),
        first_seen=t0,
    )
    assert [(p.at.day, p.price) for p in steps] == [
        (1, Decimal("400000")),
        (11, Decimal("380000")),
        (21, Decimal("375000")),
        (31, Decimal("375000")),
    ]
    svg = price_chart_svg(steps, label='Price <of> "home"')
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg
    assert "Price &lt;of&gt; &quot;home&quot;: $400,000 on Jan 1, 2026, $375,000 now" in svg
    assert 'class="price-chart down"' in svg and "$400,000" in svg and "$375,000" in svg
    assert price_chart_svg([PricePoint(t0, Decimal(1))]) == ""
