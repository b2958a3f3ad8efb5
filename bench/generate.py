"""Draft generation throughput: the built-in writer with all checks, and the OpenAI writer
against the local fake with 300 ms latency and a concurrency limit.

Prints one JSON object. Run from the repository root:
    .venv/bin/python bench/generate.py [--listings 200] [--concurrency 10] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.generation.builtin_writer import BuiltinWriter  # noqa: E402
from services.generation.listing_facts import AgentProfile, ListingFacts  # noqa: E402
from services.generation.openai_writer import OpenAIWriter  # noqa: E402
from services.generation.pipeline import DraftOutcome, produce  # noqa: E402
from services.generation.writer import Writer, WriteRequest  # noqa: E402

CITIES = [
    ("Ocala", "FL", "344"),
    ("Pensacola", "FL", "325"),
    ("Crestview", "FL", "325"),
    ("Leesburg", "FL", "347"),
    ("Dothan", "AL", "363"),
    ("Panama City", "FL", "324"),
]
COMMUNITIES = [
    "Stone Creek",
    "Tidewater Preserve",
    "Oak Hollow",
    "Sunset Grove",
    "Lakeview Estates",
    "Main Street Village",
    None,
]
PLANS = ["Sanibel", "Destin", "Magnolia", "Cypress", "Laurel", "Harbor", "Aspen", None]
FEATURES = [
    "Clubhouse",
    "Resort-style pool",
    "Open floor plan",
    "Quartz countertops",
    "Master suite with walk-in closet",
    "Covered lanai",
    "Kitchen island",
    "Stainless steel appliances",
    "Walking trails",
    "Gated entry",
    "Pickleball courts",
    "Smart home package",
    "Luxury vinyl plank flooring",
    "Energy-efficient windows",
]
DESCRIPTIONS = [
    "A gated community with tree-lined streets and miles of walking trails.",
    "The open kitchen flows into a bright great room and a covered lanai.",
    "Quiet streets close to shopping, dining and parks.",
    "Call our sales team today to learn about current incentives!",
]
AGENT = AgentProfile(
    name="Jane Doe",
    email="jane@sunshinerealty.com",
    company="Sunshine Realty",
    phone="(352) 555-0123",
)


def synthetic_listings(count: int, seed: int = 7) -> list[ListingFacts]:
    """`count` varied, realistic listings (the same ones every run)."""
    rng = random.Random(seed)
    out: list[ListingFacts] = []
    for i in range(count):
        city, state, zip3 = rng.choice(CITIES)
        community = rng.choice(COMMUNITIES)
        senior = community == "Sunset Grove"
        features = tuple(rng.sample(FEATURES, rng.randint(0, 6)))
        if senior:
            features = ("Active adult 55+ community", *features)
        price = Decimal(rng.randrange(189_990, 899_990, 5_000))
        facts = ListingFacts(
            source_id=f"bench-{i:04d}",
            address=f"{rng.randint(10, 9999)} {rng.choice(['Oak', 'Elm', 'Palm', 'Bay'])} "
            f"{rng.choice(['Ln', 'St', 'Ct', 'Way'])}",
            city=city,
            state=state,
            zip_code=f"{zip3}{rng.randint(0, 99):02d}",
            price=price if rng.random() > 0.05 else None,
            beds=rng.randint(2, 5),
            baths=Decimal(rng.choice(["2", "2.5", "3", "3.5"])),
            sqft=rng.randint(1_100, 3_900),
            garage=rng.choice([None, 1, 2, 2, 3]),
            plan_name=rng.choice(PLANS),
            community=community,
            key_features=features,
            description=" ".join(rng.sample(DESCRIPTIONS, rng.randint(0, 3))) or None,
            status=rng.choice(["active"] * 5 + ["upcoming"]),
            image_urls=(f"https://example.com/{i}.jpg",),
            source_url=f"https://holidaybuilders.com/new-homes-for-sale/bench-{i:04d}/"
            if rng.random() > 0.2
            else None,
        )
        if facts.price is not None and rng.random() < 0.15:
            facts = replace(facts, previous_price=facts.price + 10_000)
        out.append(facts)
    return out


def _request(facts: ListingFacts) -> WriteRequest:
    purpose = "price_improvement" if facts.previous_price is not None else "new_listing"
    return WriteRequest("social_media_post", purpose, facts, AGENT)


def _summary(outcomes: list[DraftOutcome], elapsed: float) -> dict[str, Any]:
    return {
        "drafts": len(outcomes),
        "elapsed_s": round(elapsed, 3),
        "drafts_per_s": round(len(outcomes) / elapsed, 1) if elapsed else None,
        "drafts_with_warnings": sum(1 for o in outcomes if o.warnings),
        "regenerations": sum(o.attempts - 1 for o in outcomes),
    }


async def bench_builtin(listings: list[ListingFacts]) -> dict[str, Any]:
    """All listings, one after another, through the built-in writer and every check."""
    writer: Writer = BuiltinWriter()
    await produce(writer, _request(listings[0]))  # warm regex caches
    started = time.perf_counter()
    outcomes = [await produce(writer, _request(f)) for f in listings]
    elapsed = time.perf_counter() - started
    result = _summary(outcomes, elapsed)
    result["ms_per_draft"] = round(1000 * elapsed / len(outcomes), 3)
    return result


async def bench_openai(
    listings: list[ListingFacts], concurrency: int, latency_s: float
) -> dict[str, Any]:
    """All listings at once through the OpenAI writer, bounded by `concurrency`.

    The fake runs in its own process so its work does not share our event loop.
    """
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.openai_server", str(latency_s),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        base_url = (await asyncio.wait_for(server.stdout.readline(), 30)).decode().strip()
        writer = OpenAIWriter(api_key="sk-bench", base_url=base_url, model="gpt-4o-mini",
                              concurrency=concurrency, timeout_s=30)  # fmt: skip
        await produce(writer, _request(listings[0]))  # connection and schema warm-up
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(produce(writer, _request(f)) for f in listings))
        elapsed = time.perf_counter() - started
        await writer.aclose()
        stats_url = base_url.removesuffix("/v1") + "/_fake/stats"
        async with aiohttp.ClientSession() as http, http.get(stats_url) as resp:
            stats = await resp.json()
    finally:
        server.terminate()
        await server.wait()
    ideal = len(listings) * latency_s / concurrency
    result = _summary(list(outcomes), elapsed)
    result.update(
        {
            "concurrency": concurrency,
            "latency_s": latency_s,
            "max_in_flight_seen": stats["max_in_flight"],
            "ideal_s": round(ideal, 3),
            "elapsed_over_ideal": round(elapsed / ideal, 3),
            "avg_tokens_per_draft": round(sum(o.usage_tokens for o in outcomes) / len(outcomes), 1),
            "tokens_note": "usage as reported by the fake (about 4 characters per token)",
            "warnings_by_kind": _by_kind(list(outcomes)),
        }
    )
    return result


def _by_kind(outcomes: list[DraftOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        for warning in outcome.warnings:
            counts[warning.kind] = counts.get(warning.kind, 0) + 1
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    listings = synthetic_listings(args.listings)
    report = {
        "bench": "generate",
        "listings": len(listings),
        "builtin": await bench_builtin(listings),
        "openai_fake": await bench_openai(listings, args.concurrency, args.latency),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
