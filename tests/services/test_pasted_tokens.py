"""What counts as a pasted access token, and what is ordinary text."""

from __future__ import annotations

import pytest

from services.pasted_tokens import looks_like_token

GRAPH = "EAAGm0PX4ZCpsBAKZB8ZCwVZAGx2qjZBZCkd7ZBSwU9ZAo3iDNBZAxAZB1ZBxYZCZAKq3c0ZD"


@pytest.mark.parametrize(
    "text",
    [
        GRAPH,
        f"here it is {GRAPH} thanks",
        f"my page token:\n{GRAPH}.",
        f"https://graph.facebook.com/v23.0/me?access_token={GRAPH}",
        "IGAAKx9l0Zz5NBZAE1hT2ZAQbW1qN3RkZAFhXbWpNb0x5c2dRR0tWc3Vq",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        "sk-proj-4fT9bQx2LrP7mZkW8nVcY3aHd6sJ0uGe1iOpTq5w",
        "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",  # a Fernet key
        "0123456789abcdef0123456789abcdef01234567",  # 40 hex characters
    ],
)
def test_token_shapes_are_recognised(text: str) -> None:
    assert looks_like_token(text)


@pytest.mark.parametrize(
    "text",
    [
        "shorter, no emojis, and mention the pool",
        "Mention the 3-car garage and the 2,450 sq ft open floor plan first.",
        "Use this link https://holidaybuilders.com/new-homes-for-sale/marion-oaks-sanibel-"
        "plan-2450-lot-15-block-3/?utm_source=Telegram&utm_campaign=Fall2026Promo",
        "see www.holidaybuilders.com/communities/MarionOaks2026/SanibelPlan3Bed2BathGarage",
        "add #MarionOaksNewConstructionHomesForSale2026Ocala to the hashtags",
        "mention_the_community_pool_and_the_clubhouse_and_the_trails",
        "Antidisestablishmentarianism-and-supercalifragilisticexpialidocious",
        "call me at 352-555-0142 or write to chris.doe.realtor@sunrise-realty-group.com",
        "1234567890123456789012345678901234567890123",  # a long number, not a secret
        "/times 09:00 17:30",
        "",
    ],
)
def test_ordinary_text_is_not_a_token(text: str) -> None:
    assert not looks_like_token(text)
