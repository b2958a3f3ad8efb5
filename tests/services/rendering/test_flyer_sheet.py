"""What goes on the printed sheet: the writer's bullets minus what the facts line shows."""

from __future__ import annotations

from services.generation.content import FlyerText
from services.rendering.flyer_sheet import flyer_sheet, restates_facts_line
from tests.services.generation.gen_listings import AGENT, BASE


def _text(bullets: list[str]) -> FlyerText:
    return FlyerText(
        headline="Just Listed",
        subheadline="5127 SW 88th Place, Ocala, FL",
        bullets=bullets,
        description="A single-story home.",
        call_to_action="Call Jane.",
        agent_contact="Jane Doe, 352-555-0123",
    )


def test_bullets_that_only_restate_the_facts_line_are_left_off() -> None:
    bullets = ["3 bedrooms", "2.5 Baths", "1,850 sq ft of living space", "2-car garage"]
    features = ["Open floor plan", "3 bedrooms with walk-in closets", "Granite countertops"]
    sheet = flyer_sheet(BASE, _text(bullets + features), AGENT)
    assert sheet.bullets == tuple(features)


def test_a_feature_with_a_number_is_not_a_fact_bullet() -> None:
    assert restates_facts_line("4 Bedrooms")
    assert not restates_facts_line("2 community pools")
    assert not restates_facts_line("10-year structural warranty")
