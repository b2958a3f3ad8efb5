"""Realistic listings for the generation tests (shaped like holidaybuilders.com homes)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from services.generation.listing_facts import AgentProfile, ListingFacts

AGENT = AgentProfile(
    name="Jane Doe",
    email="jane@sunshinerealty.com",
    company="Sunshine Realty",
    phone="(352) 555-0123",
)
AGENT_NO_PHONE = AgentProfile(
    name="Sam Rivera",
    email="sam@gulfcoasthomes.com",
    company="Gulf Coast Homes Realty",
    phone=None,
)
AGENT_NO_COMPANY = AgentProfile(
    name="Pat Lee", email="pat@example.com", company=None, phone="850-555-0199"
)

BASE = ListingFacts(
    source_id="sanibel-2417-sw-58th-ct",
    address="2417 SW 58th Ct",
    city="Ocala",
    state="FL",
    zip_code="34473",
    price=Decimal("349990"),
    beds=3,
    baths=Decimal("2.5"),
    sqft=1850,
    garage=2,
    plan_name="Sanibel",
    community="Stone Creek",
    key_features=(
        "Clubhouse",
        "Resort-style pool",
        "Open floor plan",
        "Quartz countertops",
        "Master suite with walk-in closet",
        "Covered lanai",
    ),
    description=(
        "Stone Creek is a gated community with tree-lined streets and miles of walking trails. "
        "The Sanibel plan pairs an open kitchen with a bright great room and a covered lanai. "
        "Call our sales team today to learn about our current incentives!"
    ),
    status="active",
    image_urls=("https://holidaybuilders.com/wp-content/uploads/sanibel-1.jpg",),
    source_url="https://holidaybuilders.com/new-homes-for-sale/sanibel-2417-sw-58th-ct/",
)

SENIOR = ListingFacts(
    source_id="magnolia-8812-sw-93rd-ln",
    address="8812 SW 93rd Ln",
    city="Ocala",
    state="FL",
    zip_code="34481",
    price=Decimal("289900"),
    beds=2,
    baths=Decimal("2"),
    sqft=1422,
    garage=2,
    plan_name="Magnolia",
    community="Sunset Grove",
    key_features=(
        "Active adult 55+ community",
        "Clubhouse",
        "Pickleball courts",
        "Golf course",
        "Single-story living",
        "Low-maintenance landscaping",
    ),
    description=(
        "Sunset Grove is a 55+ active adult community with a resort-style clubhouse. "
        "Residents enjoy pickleball, golf and a full calendar of social events."
    ),
    status="active",
    image_urls=("https://holidaybuilders.com/wp-content/uploads/magnolia-1.jpg",),
    source_url="https://holidaybuilders.com/new-homes-for-sale/magnolia-8812-sw-93rd-ln/",
)

LISTINGS: list[ListingFacts] = [
    BASE,
    SENIOR,
    ListingFacts(
        source_id="destin-4410-tidewater-way",
        address="4410 Tidewater Way",
        city="Pensacola",
        state="FL",
        zip_code="32526",
        price=Decimal("412500"),
        beds=4,
        baths=Decimal("3"),
        sqft=2315,
        garage=2,
        plan_name="Destin",
        community="Tidewater Preserve",
        key_features=(
            "Pond views",
            "Community playground",
            "Kitchen island",
            "Stainless steel appliances",
        ),
        description="Tidewater Preserve offers quiet streets close to shopping and beaches.",
        status="active",
        image_urls=(),
        source_url=None,
    ),
    ListingFacts(
        source_id="aspen-112-elm-st",
        address="112 Elm St",
        city="Crestview",
        state="FL",
        zip_code="32536",
        price=None,
        beds=3,
        baths=Decimal("2"),
        sqft=1540,
        garage=None,
        plan_name=None,
        community=None,
        key_features=(),
        description=None,
        status="upcoming",
        image_urls=(),
        source_url="https://holidaybuilders.com/new-homes-for-sale/aspen-112-elm-st/",
    ),
    ListingFacts(
        source_id="cypress-77-lakeview-dr",
        address="77 Lakeview Dr",
        city="Leesburg",
        state="FL",
        zip_code="34748",
        price=Decimal("1250000"),
        beds=5,
        baths=Decimal("4.5"),
        sqft=4120,
        garage=3,
        plan_name="The Cypress",
        community="Lakeview Estates",
        key_features=(
            "Lakefront homesite",
            "Summer kitchen",
            "Gated entry",
            "Dock access",
            "His and hers closets",
            "Bonus room",
            "Wine room",
        ),
        description=(
            "An elegant lakefront home in a gated enclave. Enjoy sunsets over the lake from the "
            "expansive rear lanai. Perfect for young families who love the water."
        ),
        status="active",
        image_urls=("https://example.com/a.jpg", "https://example.com/b.jpg"),
        source_url="https://holidaybuilders.com/new-homes-for-sale/cypress-77-lakeview-dr/",
    ),
    ListingFacts(
        source_id="palm-5-ocean-blvd",
        address="5 Ocean Blvd",
        city="Panama City",
        state="FL",
        zip_code="32401",
        price=Decimal("264990"),
        beds=None,
        baths=None,
        sqft=None,
        garage=1,
        plan_name="Palm",
        community="Bayside",
        key_features=("Energy-efficient windows",),
        description=None,
        status="active",
        image_urls=(),
        source_url=None,
    ),
    ListingFacts(
        source_id="harbor-300-main",
        address="300 Main St",
        city="Dothan",
        state="AL",
        zip_code="36301",
        price=Decimal("219990"),
        beds=3,
        baths=Decimal("2"),
        sqft=1302,
        garage=2,
        plan_name="Harbor",
        community="Main Street Village",
        key_features=("Granite countertops", "Luxury vinyl plank flooring", "Smart home package"),
        description="Main Street Village puts parks, trails and downtown dining minutes away.",
        status="active",
        image_urls=(),
        source_url="https://holidaybuilders.com/new-homes-for-sale/harbor-300-main/",
    ),
    ListingFacts(
        source_id="laurel-19-oak-hollow",
        address="19 Oak Hollow Rd",
        city="Ocala",
        state="FL",
        zip_code="34472",
        price=Decimal("305000"),
        beds=1,
        baths=Decimal("1"),
        sqft=980,
        garage=1,
        plan_name="Laurel",
        community="Oak Hollow",
        key_features=("Covered porch",),
        description=None,
        status="active",
        image_urls=(),
        source_url="https://holidaybuilders.com/new-homes-for-sale/laurel-19-oak-hollow/",
    ),
]

PRICE_DROP = replace(BASE, price=Decimal("339990"), previous_price=Decimal("359990"))
