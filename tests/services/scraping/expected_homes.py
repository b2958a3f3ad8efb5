"""The exact values every fixture home must parse to, for a site at any base URL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

OAK_HAMMOCK = (
    "Oak Hammock Preserve is a gated community in southwest Ocala, minutes from I-75 and the "
    "Paddock Mall.\n\nResidents enjoy a resort-style pool, a clubhouse with a fitness center, "
    "pickleball courts and walking trails through the oak hammock."
)
SANIBEL = (
    "The Sanibel is a single-story home with an open floor plan that joins the kitchen, dining "
    "area and family room. The kitchen features granite countertops, stainless steel appliances "
    "and a large island with room for four stools.\n\nThe owner\u2019s suite has a walk-in closet "
    "and a double vanity, and sliding glass doors open to a covered lanai overlooking the preserve."
)
TRADITION_OAKS = (
    "Tradition Oaks is a small neighborhood west of I-95 with a community pool, a playground and "
    "a dog park. No CDD."
)
CAPTIVA = (
    "The two-story Captiva puts all four bedrooms upstairs and a powder room downstairs. Quartz "
    "countertops, a walk-in pantry and luxury vinyl plank flooring come standard.\n\nTray ceilings "
    "crown the owner\u2019s suite, and impact-resistant windows and a covered patio finish the "
    "home. Estimated completion: August 2024."
)
HERON_BAY = (
    "Heron Bay Estates is a 55+ active adult community built around an 18-hole golf course.\n\n"
    "The clubhouse has a heated swimming pool, tennis courts and a full calendar of social clubs."
)
MARCO = (
    "The Marco is a three-bedroom villa with a split bedroom plan, vaulted ceilings in the great "
    "room and an extra-deep garage with room for a golf cart."
)
BLUEWATER = (
    "Bluewater Reserve sits just north of Pensacola Bay, close to shopping on Highway 90 and to "
    "Whiting Field."
)
DESTIN = (
    "The Destin offers four bedrooms and an open-concept layout, with a kitchen island, stainless "
    "appliances and ceramic tile throughout the living areas."
)
AMELIA_BLUFF = (
    "Amelia Bluff is twenty minutes from the beaches of Amelia Island and close to Jacksonville "
    "International Airport."
)
AMELIA = (
    "The Amelia is our largest plan: five bedrooms, a bonus room upstairs and a three-car garage."
)
CAPE_CORAL = (
    "Cape Coral homesites put you close to the Caloosahatchee River, with over 400 miles of "
    "canals nearby."
)
NAPLES = (
    "The Naples has a caf\u00e9-style breakfast nook, a split floor plan and energy-efficient "
    "windows \u2013 on an oversized Cape Coral homesite with no HOA."
)


def expected_homes(base: str) -> dict[str, dict[str, Any]]:
    """slug → every ParsedHome field (as `dataclasses.asdict`) for a site at `base`."""
    base = base.rstrip("/")
    www = base.replace("://", "://www.", 1)
    up = f"{base}/wp-content/uploads"

    def home(slug: str, **fields: Any) -> dict[str, Any]:
        return {"source_id": slug, "source_url": f"{base}/new-homes-for-sale/{slug}/", **fields}

    homes = [
        home(
            "5127-sw-88th-place-ocala",
            status="active",
            plan_name="Sanibel",
            beds=3,
            baths=Decimal("2"),
            garage=2,
            sqft=1850,
            price=Decimal("289990"),
            address="5127 SW 88th Place",
            city="Ocala",
            state="FL",
            zip_code="34476",
            latitude=29.1097,
            longitude=-82.2279,
            community="Oak Hammock Preserve",
            school_district="Marion County Public Schools",
            community_description=OAK_HAMMOCK,
            plan_description=SANIBEL,
            description=f"{SANIBEL}\n\n{OAK_HAMMOCK}",
            key_features=[
                "Gated community",
                "Clubhouse",
                "Resort-style pool",
                "Fitness center",
                "Pickleball courts",
                "Walking trails",
                "Open floor plan",
                "Granite countertops",
                "Stainless steel appliances",
                "Kitchen island",
                "Walk-in closet",
                "Covered lanai",
                "2-car garage",
            ],
            image_urls=[
                f"{up}/2024/04/sanibel-5127-front.jpg",
                f"{up}/2024/04/sanibel-5127-kitchen.jpg",
                f"{up}/2024/04/sanibel-5127-owners-suite.jpg",
                f"{up}/2024/04/sanibel-5127-lanai.jpg?ver=2",
            ],
            source_lastmod=datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC),
            facts={
                "School District": "Marion County Public Schools",
                "Home Type": "Single-Family Homes",
                "Community Pricing": "From the $280s",
            },
            page_modified=datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC),
        ),
        home(
            "10421-sw-cabernet-drive-port-st-lucie",
            status="upcoming",
            plan_name="Captiva",
            beds=4,
            baths=Decimal("2.5"),
            garage=2,
            sqft=2104,
            price=Decimal("374990"),
            address="10421 SW Cabernet Drive",
            city="Port St. Lucie",
            state="FL",
            zip_code="34987",
            latitude=27.2439,
            longitude=-80.4211,
            community="Tradition Oaks",
            school_district="St. Lucie Public Schools",
            community_description=TRADITION_OAKS,
            plan_description=CAPTIVA,
            description=f"{CAPTIVA}\n\n{TRADITION_OAKS}",
            key_features=[
                "Pool",
                "Playground",
                "Dog park",
                "No CDD",
                "Quartz countertops",
                "Walk-in pantry",
                "Covered patio",
                "Tray ceilings",
                "Luxury vinyl plank flooring",
                "Impact-resistant windows",
                "2-car garage",
            ],
            image_urls=[
                # data-srcset's largest, then replaced by the original upload found later
                f"{up}/2024/04/captiva-10421-front.jpg",
                f"{up}/2024/04/captiva-10421-kitchen-2048x1365.jpg",
                f"{up}/2024/04/captiva-10421-great-room.jpg",
                f"{up}/2024/04/captiva-10421-patio.jpg",
            ],
            source_lastmod=datetime(2024, 5, 3, 14, 0, tzinfo=UTC),
            facts={"School District": "St. Lucie Public Schools"},
            page_modified=datetime(2024, 5, 3, 14, 0, tzinfo=UTC),
        ),
        home(
            "1482-heron-bay-lane-palm-bay",
            status="sold",
            plan_name="Marco",
            beds=3,
            baths=Decimal("2"),
            garage=2,
            sqft=1560,
            price=None,
            address="1482 Heron Bay Lane",
            city="Palm Bay",
            state="FL",
            zip_code="32909",
            latitude=27.9894,
            longitude=-80.6632,
            community="Heron Bay Estates",
            school_district="Brevard Public Schools",
            community_description=HERON_BAY,
            plan_description=MARCO,
            description=f"{MARCO}\n\n{HERON_BAY}",
            key_features=[
                "55+ active adult community",
                "Golf course",
                "Clubhouse",
                "Pool",
                "Tennis courts",
                "Split bedroom plan",
                "Vaulted ceilings",
                "2-car garage",
            ],
            image_urls=[
                f"{up}/2024/01/marco-1482-front.jpg",
                f"{up}/2024/01/marco-1482-living.jpg",
            ],
            source_lastmod=datetime(2024, 4, 20, 8, 0, tzinfo=UTC),
            facts={"School District": "Brevard Public Schools"},
            page_modified=datetime(2024, 4, 20, 8, 0, tzinfo=UTC),
        ),
        home(
            "6230-bluewater-drive-milton",
            status="active",
            plan_name="Destin",
            beds=4,
            baths=Decimal("2"),
            garage=2,
            sqft=1946,
            price=Decimal("329990"),
            address="6230 Bluewater Drive",
            city="Milton",  # ", FL 32583" on the page: the breadcrumb's market
            state="FL",
            zip_code="32583",
            latitude=30.6324,
            longitude=-87.0397,
            community="Bluewater Reserve",
            school_district="Santa Rosa County School District",
            community_description=BLUEWATER,
            plan_description=DESTIN,
            description=f"{DESTIN}\n\n{BLUEWATER}",
            key_features=[
                "Open floor plan",
                "Stainless steel appliances",
                "Kitchen island",
                "Tile flooring",
                "2-car garage",
            ],
            image_urls=[
                f"{up}/2024/02/destin-6230-front.jpg",
                f"{up}/2024/02/destin-6230-kitchen.jpg",
                f"{up}/2024/02/destin-6230-floor-plan.png",
            ],
            # from malformed JSON-LD (no meta on this page)
            source_lastmod=datetime(2024, 5, 1, 9, 15, tzinfo=UTC),
            facts={"School District": "Santa Rosa County School District"},
            page_modified=datetime(2024, 5, 1, 9, 15, tzinfo=UTC),
        ),
        home(
            "2214-amelia-bluff-court-jacksonville",
            status="active",
            plan_name="Amelia",
            beds=5,
            baths=Decimal("3"),
            garage=3,
            sqft=2710,
            price=None,  # "Call for pricing"
            address="2214 Amelia Bluff Court",
            city="Jacksonville",
            state="FL",
            zip_code="32218",
            latitude=None,
            longitude=None,
            community="Amelia Bluff",  # no heading: the breadcrumb's last community link
            school_district="Duval County Public Schools",
            community_description=AMELIA_BLUFF,
            plan_description=AMELIA,
            description=f"{AMELIA}\n\n{AMELIA_BLUFF}",
            key_features=["3-car garage"],
            image_urls=[
                f"{up}/2024/03/amelia-2214-front.jpg",
                f"{up}/2024/03/amelia-2214-bonus-room.jpg",
            ],
            source_lastmod=datetime(2024, 4, 28, 16, 40, tzinfo=UTC),
            facts={"School District": "Duval County Public Schools"},
            page_modified=datetime(2024, 4, 28, 16, 40, tzinfo=UTC),
        ),
        home(
            "918-nw-14th-terrace-cape-coral",
            status="active",
            plan_name="Naples",
            beds=3,
            baths=Decimal("2"),
            garage=2,
            sqft=1402,
            price=Decimal("309990"),  # "<del>$319,990</del> $309,990"
            address="918 NW 14th Terrace",
            city="Cape Coral",
            state="FL",
            zip_code="33993",
            latitude=26.6845,
            longitude=-81.9712,
            community="Cape Coral",
            school_district="Lee County Public Schools",
            community_description=CAPE_CORAL,
            plan_description=NAPLES,
            description=f"{NAPLES}\n\n{CAPE_CORAL}",
            key_features=["Split bedroom plan", "Energy efficient", "2-car garage"],
            image_urls=[
                f"{www}/wp-content/uploads/2024/04/naples-918-front.jpg",
                f"{up}/2024/04/naples-918-kitchen-1024x683.jpg",
                f"{up}/2024/04/naples-918-breakfast-nook.webp",
            ],
            source_lastmod=datetime(2024, 5, 4, 11, 22, 33, tzinfo=UTC),
            facts={"School District": "Lee County Public Schools", "Community Type": "Homesite"},
            page_modified=datetime(2024, 5, 4, 11, 22, 33, tzinfo=UTC),
        ),
        home(
            "3305-sandhill-crane-road-lehigh-acres",
            status=None,
            plan_name=None,
            beds=3,
            baths=Decimal("2"),
            garage=None,
            sqft=None,
            price=None,
            address="3305 Sandhill Crane Road",
            city="Lehigh Acres",
            state="FL",
            zip_code="33971",
            latitude=None,
            longitude=None,
            community=None,
            school_district=None,
            community_description=None,
            plan_description=None,
            description=None,
            key_features=[],
            image_urls=[],
            source_lastmod=None,
            facts={},
            page_modified=None,
        ),
    ]
    return {h["source_id"]: h for h in homes}


# The sitemap's <lastmod> for each fixture home, as the crawl reports it (aware UTC).
SITEMAP_LASTMODS = {
    "5127-sw-88th-place-ocala": datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC),
    "10421-sw-cabernet-drive-port-st-lucie": datetime(2024, 5, 3, 14, 0, tzinfo=UTC),
    "1482-heron-bay-lane-palm-bay": datetime(2024, 4, 20, tzinfo=UTC),
    "6230-bluewater-drive-milton": datetime(2024, 5, 1, 9, 15, tzinfo=UTC),
    "2214-amelia-bluff-court-jacksonville": datetime(2024, 4, 28, 16, 40, tzinfo=UTC),
    "918-nw-14th-terrace-cape-coral": datetime(2024, 5, 4, 11, 22, 33, tzinfo=UTC),
    "3305-sandhill-crane-road-lehigh-acres": datetime(2024, 4, 15, 9, 0, tzinfo=UTC),
}
