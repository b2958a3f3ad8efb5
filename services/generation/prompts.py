"""Prompts for model-backed writers: what a good listing post is, and the facts as JSON."""

from __future__ import annotations

import json

from services.generation.checks.disclosure import disclosure_line
from services.generation.checks.limits import INSTAGRAM_CAPTION_MAX, INSTAGRAM_HASHTAGS_MAX
from services.generation.writer import WriteRequest

FACTS_MARKER = "LISTING FACTS (JSON):"
AGENT_MARKER = "AGENT (JSON):"
PREVIOUS_MARKER = "PREVIOUS VERSION (JSON):"
FEEDBACK_MARKER = "AGENT'S FEEDBACK:"

SYSTEM_PROMPT = f"""\
You are a real estate marketing copywriter for a licensed agent who sells new-construction \
homes. You write social media posts and flyer text that an agent can publish as is.

How good listing copy works:
- Lead with what makes this home special (the plan, a standout feature, the community), not \
with generic hype.
- Give the key numbers plainly: price, bedrooms, bathrooms, square feet, garage. Write prices \
like $349,990 and square footage like 1,850 sq ft.
- Mention community amenities (clubhouse, pool, trails, gated entry) when the facts list them.
- End with one clear call to action naming the agent and their phone or email.
- Warm, specific, confident; no clichés, no ALL CAPS, at most one exclamation mark per paragraph.

Hard rules:
- Use ONLY the facts given. Never invent numbers, features, schools, HOA fees, incentives, \
open houses, views or distances. If a fact is missing, leave it out.
- Fair housing: describe the property, never the people. Do not say who the home is ideal for \
(families, couples, singles, retirees, young professionals), do not mention religion, race, \
national origin, sex, disability or age, and avoid "exclusive", "safe neighborhood", \
"walking distance to church", "bachelor pad", "handicapped". Say "primary bedroom", not \
"master bedroom". Age wording ("55+", "active adult") is allowed ONLY when \
age_restricted_community is true, and never "adults only" or "no children".
- facebook_text: the complete Facebook post: the headline, the body, the call to action, \
"See all the photos and details: <source_url>" when a source_url is given, the disclosure \
line, then 2-3 hashtags.
- instagram_text: the complete Instagram caption: short lines with a few fitting emoji, the \
key numbers on their own lines, NO URL (say "link in bio"), the call to action, the disclosure \
line, then the hashtags last. At most {INSTAGRAM_CAPTION_MAX:,} characters and \
{INSTAGRAM_HASHTAGS_MAX} hashtags (8-15 is best).
- Every platform text (and a flyer's agent_contact) must contain the disclosure line given \
below, exactly.
- body is platform-neutral: no emoji, no hashtags, no URL.
- For a revision, keep what the agent did not ask to change and apply the feedback fully, \
still within these rules.
"""

_TASKS = {
    ("social_media_post", "new_listing"): "Write a social media post announcing this new listing.",
    ("social_media_post", "price_improvement"): (
        "Write a social media post announcing this price improvement: show the new price and, "
        "when previous_price is given, the old one (was/now)."
    ),
    ("flyer_text", "flyer"): "Write the text for a one-page flyer for this home.",
    ("social_media_post", "now_selling"): (
        'Write a "now selling" social media post: this home was coming soon and is now for '
        "sale. Open with that news (not like a plain new-listing post) and lead the hashtags "
        "with #NowSelling."
    ),
    ("social_media_post", "just_sold"): (
        'Write a "just sold" social media post: this home has sold. State no price and do '
        "not invite tours; invite people thinking of buying or selling nearby to contact the "
        "agent. Lead the hashtags with #JustSold."
    ),
    ("social_media_post", "back_on_market"): (
        'Write a "back on the market" social media post: this home is for sale again. Open '
        "with that news and lead the hashtags with #BackOnTheMarket."
    ),
}
_OCCASIONS = {
    "now_selling": 'a "now selling" post',
    "just_sold": 'a "just sold" post (no price, no tours)',
    "back_on_market": 'a "back on the market" post',
}


def user_prompt(req: WriteRequest) -> str:
    """The user message: the task, the facts as JSON, and for revisions the feedback."""
    task = _TASKS.get((req.kind, req.purpose))
    if task is None:
        noun = "flyer text" if req.kind == "flyer_text" else "social media post"
        task = (
            f"Revise this {noun} following the agent's feedback."
            if req.previous is not None
            else f"Write a {noun} for this home."
        )
        occasion = _OCCASIONS.get(req.occasion or "")
        if occasion is not None:
            task += f" It is {occasion}; keep it one."
    parts = [
        task,
        f"{FACTS_MARKER}\n{json.dumps(req.facts.to_prompt_dict(), ensure_ascii=False)}",
        f"{AGENT_MARKER}\n{json.dumps(req.agent.to_prompt_dict(), ensure_ascii=False)}",
        f"Disclosure line (include it exactly): {disclosure_line(req.agent)}",
    ]
    if req.previous is not None:
        parts.append(f"{PREVIOUS_MARKER}\n{json.dumps(req.previous, ensure_ascii=False)}")
    if req.feedback:
        parts.append(f"{FEEDBACK_MARKER}\n{req.feedback.strip()}")
    return "\n\n".join(parts)
