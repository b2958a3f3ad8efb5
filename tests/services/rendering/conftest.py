"""A complete flyer sheet and a synthetic house photo, shared by the rendering tests."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw

from services.rendering.flyer_sheet import FlyerSheet

LISTING_URL = "https://www.holidaybuilders.com/homes/5127-sw-88th-place-ocala/"


LONG_DESCRIPTION = (
    "The open kitchen has an island, granite counters and a walk-in pantry, and it opens "
    "to a family room with a vaulted ceiling. " * 80
)


def long_sheet(sheet: FlyerSheet) -> FlyerSheet:
    return dataclasses.replace(
        sheet,
        headline="An extraordinarily long headline that goes on about the home " * 3,
        bullets=tuple(
            f"Feature {i}: a covered lanai with a ceiling fan and pavers" for i in range(30)
        ),
        description=LONG_DESCRIPTION,
        call_to_action="Call now to book your private tour of this home! " * 10,
        agent_name="Dr. Maximilian Alexander Featherstonehaugh-Worthington III",
        agent_email="maximilian.alexander.featherstonehaugh@very-long-brokerage-domain.example",
        brokerage="Featherstonehaugh & Worthington International Luxury Realty Partners LLC",
        listing_url="https://www.holidaybuilders.com/homes/" + "a-very-long-slug-" * 20,
    )


def house_photo(width: int = 1600, height: int = 1067, fmt: str = "JPEG") -> bytes:
    """A recognisable picture: blue sky over green lawn, a house in the middle."""
    img = Image.new("RGB", (width, height), (120, 170, 235))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, int(height * 0.62), width, height), fill=(70, 130, 60))
    draw.rectangle(
        (int(width * 0.25), int(height * 0.38), int(width * 0.75), int(height * 0.72)),
        fill=(232, 224, 210),
    )
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def sheet() -> FlyerSheet:
    return FlyerSheet(
        address="5127 SW 88th Place",
        city="Ocala",
        state="FL",
        zip_code="34476",
        price=Decimal("289990"),
        beds=4,
        baths=Decimal("2.5"),
        sqft=1850,
        garage=2,
        community="Oak Hammock Preserve",
        plan_name="The Magnolia",
        headline="Brand-new 4-bedroom home in Oak Hammock Preserve",
        subheadline="5127 SW 88th Place, Ocala, FL 34476 · $289,990",
        bullets=("Granite countertops", "Covered lanai", "Energy-efficient windows", "Pool"),
        description=(
            "Step inside this brand-new Magnolia plan and find an open kitchen that flows "
            "into a bright family room.\n\nOut back, the covered lanai looks over a quiet yard."
        ),
        call_to_action="Call Jane Doe at (352) 555-0142 to tour this home this week.",
        agent_name="Jane Doe",
        agent_phone="(352) 555-0142",
        agent_email="jane.doe@sunrealty.example",
        brokerage="Sun Realty Group",
        license_number="SL3456789",
        listing_url=LISTING_URL,
        photo=house_photo(),
    )
