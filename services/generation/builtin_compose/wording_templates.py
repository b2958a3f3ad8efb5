"""The built-in writer's wording: every template, keyed by moment and tone, with the facts it needs.

Templates never carry emoji (the assembly adds those) and only name facts from the listing.
"""

from __future__ import annotations

import re

from services.generation.builtin_style import Channel

STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "NewHampshire",
    "NJ": "NewJersey", "NM": "NewMexico", "NY": "NewYork", "NC": "NorthCarolina",
    "ND": "NorthDakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "RhodeIsland", "SC": "SouthCarolina", "SD": "SouthDakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "WestVirginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

# (template, facts it needs). Templates never carry emoji; the platform layer adds those.
Template = tuple[str, frozenset[str]]


def template(text: str, *needs: str) -> Template:
    """A template and the facts it needs (see `Template`)."""
    return (text, frozenset(needs))


OPENINGS: dict[tuple[str, str], list[Template]] = {
    ("new_listing", "neutral"): [
        template("Just listed {where_full}: {plan_ref} at {address}.", "plan"),
        template("Just listed {where_full}: a brand-new home at {address}."),
        template("Meet {plan_ref}, a new-construction home at {address} {where_full}.", "plan"),
        template("New construction {where_full}, and it's worth a closer look: {address}."),
        template("Looking for a new home {where}? {address} just hit the market."),
        template("There's a new home on the market {where_full}: {address}."),
    ],
    ("new_listing", "formal"): [
        template("Presenting {plan_ref} at {address}, a newly built home {where_full}.", "plan"),
        template("Now available {where_full}: a newly built home at {address}."),
        template("Introducing {address}, new construction {where_full}."),
        template("Newly listed {where_full}: {plan_ref} at {address}.", "plan"),
    ],
    ("new_listing", "casual"): [
        template("Brand-new and just listed {where_full}! Say hello to {address}."),
        template(
            "Fresh on the market {where}! {plan_ref_cap} at {address} is ready for its first "
            "owners.",
            "plan",
        ),
        template("Who's ready for a brand-new home {where}? {address} just hit the market!"),
        template("New build alert {where_full}! Come see {address}."),
    ],
    ("upcoming", "neutral"): [
        template("Coming soon {where_full}: {plan_ref} at {address}.", "plan"),
        template("Coming soon {where_full}: a brand-new home at {address}."),
    ],
    ("upcoming", "formal"): [
        template("Coming soon {where_full}: a newly built home at {address}."),
        template("Coming soon {where_full}: {plan_ref} at {address}.", "plan"),
    ],
    ("upcoming", "casual"): [
        template("Coming soon {where_full}! Get a first look at {address}."),
        template("Something new is coming {where}! Meet {address}."),
    ],
    ("price_improvement", "neutral"): [
        template("Price improvement {where_full}! {address} is now {price}.", "price", "drop"),
        template("New price on {address} {where_full}: now {price}.", "price"),
        template("Good news for buyers {where}: {address} has a new, lower price.", "drop"),
        template("There's a new price on {address} {where_full}."),
    ],
    ("price_improvement", "formal"): [
        template("Price update: {address} {where_full} is now offered at {price}.", "price"),
        template("The price of {address} {where_full} has been updated."),
    ],
    ("price_improvement", "casual"): [
        template("Price drop alert {where}! {address} just got more affordable.", "drop"),
        template("New price, same beautiful home! {address} {where_full} is now {price}.", "price"),
    ],
    ("now_selling", "neutral"): [
        template(
            "Now selling {where_full}: {plan_ref} at {address} is officially for sale.", "plan"
        ),
        template("The wait is over {where}: {address} is now selling."),
        template("It's official: {address} {where_full} is now for sale."),
        template("Previously coming soon, {address} {where_full} is now on the market."),
    ],
    ("now_selling", "formal"): [
        template("Now selling {where_full}: {plan_ref} at {address}.", "plan"),
        template("{address} {where_full} is now available for purchase."),
        template("I am pleased to announce that {address} {where_full} is now on the market."),
    ],
    ("now_selling", "casual"): [
        template("It's here! {address} {where_full} is now selling!"),
        template("The wait is over {where}! {address} is officially for sale."),
        template(
            "Now selling {where}! {plan_ref_cap} at {address} is ready for its first owners.",
            "plan",
        ),
    ],
    ("just_sold", "neutral"): [
        template("Just sold {where_full}: {address}."),
        template("Another one sold {where}: {address} has found its owners."),
        template("{address} {where_full} is officially sold."),
        template("Sold! {plan_ref_cap} at {address} {where_full} is off the market.", "plan"),
    ],
    ("just_sold", "formal"): [
        template("Just sold: {address} {where_full}."),
        template("{address} {where_full} has sold."),
        template("I am pleased to share that {address} {where_full} has sold."),
    ],
    ("just_sold", "casual"): [
        template("SOLD! {address} {where_full} is spoken for."),
        template("Another one sold {where}! {address} is off the market."),
        template("Just sold {where}! Congratulations to the new owners of {address}."),
    ],
    ("back_on_market", "neutral"): [
        template("Back on the market {where_full}: {address}."),
        template("Good news {where}: {address} is available again."),
        template("A second chance {where_full}: {address} is back on the market."),
        template("{address} {where_full} is for sale again."),
    ],
    ("back_on_market", "formal"): [
        template("Back on the market {where_full}: {address}."),
        template("{address} {where_full} is once again available."),
        template("{plan_ref_cap} at {address} {where_full} has returned to the market.", "plan"),
    ],
    ("back_on_market", "casual"): [
        template("It's back! {address} {where_full} is on the market again."),
        template("Missed it the first time? {address} {where} is back on the market!"),
        template("Second chance alert {where}! {address} is available again."),
    ],
}
WAS_NOW = {
    "neutral": ["Was {prev}, now {price}: that's {diff} less.", "Now {price}, down from {prev}."],
    "formal": ["Previously {prev}, now {price}."],
    "casual": ["Was {prev}, now just {price}. That's {diff} back in your pocket!"],
}
# When the opening already states the new price.
WAS_ONLY = {
    "neutral": ["That's {diff} less than the previous {prev}.", "It was {prev}."],
    "formal": ["It was previously offered at {prev}."],
    "casual": ["That's {diff} less than before!"],
}
STATS = {
    "neutral": [
        "The home offers {stats}.",
        "Inside you'll find {stats}.",
        "{home_cap} has {stats}.",
    ],
    "formal": ["The residence offers {stats}.", "The home features {stats}."],
    "casual": ["You get {stats}!", "Think {stats}!"],
}
PRICE = {
    "neutral": ["Offered at {price}.", "Priced at {price}."],
    "formal": ["Offered at {price}."],
    "casual": ["All for {price}!", "Priced at {price}!"],
}
HIGHLIGHT = {
    "neutral": "Standout feature: {feature}.",
    "formal": "Of particular note: {feature}.",
    "casual": "Best part? {feature_cap}!",
}
FEATURES = {
    "neutral": [
        "Highlights include {list}.",
        "Details you'll love: {list}.",
        "It also has {list}.",
    ],
    "formal": ["Features include {list}."],
    "casual": ["Plus {list}!"],
}
AMENITIES = {
    "neutral": ["Life in {community} comes with {list}.", "{community} residents enjoy {list}."],
    "formal": ["Community amenities include {list}."],
    "casual": ["And the community has {list}!"],
}
AMENITIES_NO_COMMUNITY = {
    "neutral": ["Community amenities include {list}."],
    "formal": ["Community amenities include {list}."],
    "casual": ["And the community has {list}!"],
}
LOCATION = {
    "neutral": "You'll find it at {address}, {city}, {state} {zip}.",
    "formal": "The home is located at {address}, {city}, {state} {zip}.",
    "casual": "Find it at {address}, {city}, {state} {zip}.",
}
HEADLINES: dict[tuple[str, str], list[Template]] = {
    ("new_listing", "neutral"): [
        template("Just Listed: {plan_ref_title} in {place}", "plan"),
        template("New Construction in {city}: {beds} Bed, {baths} Bath", "beds", "baths"),
        template("{price} | {beds} Bed, {baths} Bath in {city}", "price", "beds", "baths"),
        template("Now Available in {place}"),
        template("A Brand-New Home in {place}"),
    ],
    ("new_listing", "formal"): [
        template("Now Available: {plan_ref_title} in {place}", "plan"),
        template("New Construction in {place}"),
        template("{address}, {city}"),
    ],
    ("new_listing", "casual"): [
        template("Just Listed in {place}!"),
        template("Meet {plan_ref_title}!", "plan"),
        template("Brand-New in {city}: {beds} Bed, {baths} Bath!", "beds", "baths"),
    ],
    ("upcoming", "neutral"): [
        template("Coming Soon to {place}"),
        template("Coming Soon: {plan_ref_title}", "plan"),
    ],
    ("upcoming", "formal"): [template("Coming Soon to {place}")],
    ("upcoming", "casual"): [template("Coming Soon to {place}!")],
    ("price_improvement", "neutral"): [
        template("Price Improvement: Now {price}", "price", "drop"),
        template("New Price in {city}: {price}", "price"),
        template("New Price in {place}"),
    ],
    ("price_improvement", "formal"): [
        template("Price Update: {address}"),
        template("Now Offered at {price}", "price"),
    ],
    ("price_improvement", "casual"): [
        template("Price Drop in {city}!", "drop"),
        template("New Price: {price}!", "price"),
    ],
    ("now_selling", "neutral"): [
        template("Now Selling in {place}"),
        template("Now Selling: {plan_ref_title}", "plan"),
        template("Now For Sale: {beds} Bed, {baths} Bath in {city}", "beds", "baths"),
    ],
    ("now_selling", "formal"): [
        template("Now Selling in {place}"),
        template("Now Available: {address}"),
    ],
    ("now_selling", "casual"): [
        template("Now Selling in {place}!"),
        template("It's Here: {plan_ref_title}!", "plan"),
    ],
    ("just_sold", "neutral"): [template("Just Sold in {place}"), template("Sold: {address}")],
    ("just_sold", "formal"): [template("Just Sold: {address}"), template("Sold in {place}")],
    ("just_sold", "casual"): [template("Just Sold in {city}!"), template("SOLD in {place}!")],
    ("back_on_market", "neutral"): [
        template("Back on the Market in {place}"),
        template("Available Again: {address}"),
    ],
    ("back_on_market", "formal"): [
        template("Back on the Market: {address}"),
        template("Available Again in {place}"),
    ],
    ("back_on_market", "casual"): [
        template("It's Back in {city}!"),
        template("Back on the Market in {place}!"),
    ],
}
CTAS: dict[tuple[Channel, str], list[str]] = {
    ("call", "neutral"): [
        "Call or text {name} at {phone} to schedule a tour.",
        "Reach out to {name} at {phone} for a private showing.",
    ],
    ("call", "formal"): ["To arrange a private showing, please contact {name} at {phone}."],
    ("call", "casual"): ["Call or text {name} at {phone} and let's go see it!"],
    ("text", "neutral"): ["Text {name} at {phone} to schedule a tour."],
    ("text", "formal"): ["To arrange a showing, please text {name} at {phone}."],
    ("text", "casual"): ["Shoot {name} a text at {phone} and let's go see it!"],
    ("email", "neutral"): ["Email {name} at {email} to schedule a tour."],
    ("email", "formal"): ["To arrange a private showing, please email {name} at {email}."],
    ("email", "casual"): ["Drop {name} a line at {email} and let's go see it!"],
    ("dm", "neutral"): ["Send {name} a message to schedule a tour."],
    ("dm", "formal"): ["To arrange a private showing, please send {name} a message."],
    ("dm", "casual"): ["Slide into {name}'s DMs and let's go see it!"],
}
# A sold home cannot be toured: the `just sold` post invites the next client instead.
SOLD_CTAS: dict[tuple[Channel, str], list[str]] = {
    ("call", "neutral"): [
        "Thinking of buying or selling {where}? Call or text {name} at {phone}.",
        "Looking for a home like this one? Call {name} at {phone}.",
    ],
    ("call", "formal"): ["To discuss buying or selling {where}, please contact {name} at {phone}."],
    ("call", "casual"): ["Want to be next? Call or text {name} at {phone}!"],
    ("text", "neutral"): ["Thinking of buying or selling {where}? Text {name} at {phone}."],
    ("text", "formal"): ["To discuss buying or selling {where}, please text {name} at {phone}."],
    ("text", "casual"): ["Want to be next? Shoot {name} a text at {phone}!"],
    ("email", "neutral"): ["Thinking of buying or selling {where}? Email {name} at {email}."],
    ("email", "formal"): ["To discuss buying or selling {where}, please email {name} at {email}."],
    ("email", "casual"): ["Want to be next? Drop {name} a line at {email}!"],
    ("dm", "neutral"): ["Thinking of buying or selling {where}? Send {name} a message."],
    ("dm", "formal"): ["To discuss buying or selling {where}, please send {name} a message."],
    ("dm", "casual"): ["Want to be next? Slide into {name}'s DMs!"],
}
IG_LINK = {
    "neutral": "Photos and details at the link in bio.",
    "formal": "Full details are available through the link in my bio.",
    "casual": "Tap the link in bio for all the photos!",
}
IG_NO_LINK = {
    "neutral": "DM me for photos and details.",
    "formal": "Please send me a message for full details.",
    "casual": "DM me for all the photos!",
}
FB_LINK = {
    "neutral": "See all the photos and details: {url}",
    "formal": "Photos and full details: {url}",
    "casual": "All the photos are here: {url}",
}
GENERIC_TAGS = (
    "#NewConstruction", "#NewHomes", "#HomeForSale", "#RealEstate", "#HouseHunting",
    "#DreamHome", "#NewBuild", "#HomesForSale", "#NewHome", "#HomeSweetHome",
    "#RealEstateAgent", "#Realtor",
)  # fmt: skip
FEATURE_TAGS = (
    (re.compile(r"\bgolf\b", re.I), "#GolfCommunity"),
    (re.compile(r"\bgated\b", re.I), "#GatedCommunity"),
    (re.compile(r"\blake|waterfront\b", re.I), "#LakeLife"),
    (re.compile(r"\bopen (?:floor|concept)", re.I), "#OpenConcept"),
)
TAG_COUNT = {"short": 6, "normal": 10, "long": 14}
FB_TAG_COUNT = 3
FEATURE_CAP = {"short": 0, "normal": 3, "long": 6}
AMENITY_CAP = {"short": 0, "normal": 3, "long": 5}
DESCRIPTION_CAP = {"short": 0, "normal": 1, "long": 3}
EMOJI = {
    "home": "🏡",
    "beds": "🛏",
    "baths": "🛁",
    "sqft": "📐",
    "garage": "🚗",
    "price": "💰",
    "where": "📍",
    "cta": "📲",
    "spark": "✨",
    "check": "✅",
    "key": "🔑",
}
