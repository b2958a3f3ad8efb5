"""Platform limits: Instagram ≤ 2,200 characters and ≤ 30 hashtags; Facebook's own cap."""

from __future__ import annotations

from services.generation.checks.limits import (
    FACEBOOK_TEXT_MAX,
    INSTAGRAM_CAPTION_MAX,
    INSTAGRAM_HASHTAGS_MAX,
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_TEXT_MAX,
    apply_limits,
    count_hashtags,
    fit_instagram,
    fit_text,
)

DISCLOSURE = "Sunshine Realty · Equal Housing Opportunity"


def test_constants_match_the_platforms() -> None:
    assert INSTAGRAM_CAPTION_MAX == 2200
    assert INSTAGRAM_HASHTAGS_MAX == 30
    assert TELEGRAM_TEXT_MAX == 4096
    assert TELEGRAM_CAPTION_MAX == 1024
    assert FACEBOOK_TEXT_MAX <= 63_206


def test_caption_within_limits_is_untouched() -> None:
    caption = "Hook\n\nCall me.\n\n" + DISCLOSURE + "\n\n" + " ".join(f"#T{i}" for i in range(30))
    assert fit_instagram(caption) == (caption, [])


def test_extra_hashtags_are_dropped_from_the_end() -> None:
    tags = [f"#Tag{i}" for i in range(35)]
    caption = f"Hook #Inline\n\nCall me.\n\n{DISCLOSURE}\n\n" + " ".join(tags)
    fixed, warnings = fit_instagram(caption)
    assert count_hashtags(fixed) == 30
    assert "#Inline" in fixed and "#Tag28" in fixed and "#Tag29" not in fixed
    assert fixed.startswith("Hook #Inline") and DISCLOSURE in fixed
    assert [w.kind for w in warnings] == ["limits"]
    assert "30 hashtags" in warnings[0].message


def test_too_long_caption_keeps_opening_cta_disclosure_and_some_hashtags() -> None:
    opening = "🏡 Just listed in Stone Creek: 2417 SW 58th Ct."
    filler = " ".join(["The kitchen opens to the great room."] * 40)
    cta = "📲 Link in bio. Call Jane Doe at (352) 555-0123."
    tags = " ".join(f"#Tag{i}" for i in range(25))
    caption = "\n\n".join([opening, filler, "Short middle.", filler, cta, DISCLOSURE, tags])
    assert len(caption) > INSTAGRAM_CAPTION_MAX
    fixed, warnings = fit_instagram(caption)
    assert len(fixed) <= INSTAGRAM_CAPTION_MAX
    assert fixed.startswith(opening)
    assert cta in fixed and DISCLOSURE in fixed
    assert fixed.rstrip().split("\n\n")[-1].startswith("#Tag0")
    assert warnings and "2,200" in warnings[0].message


def test_single_huge_paragraph_is_cut_at_sentence_ends() -> None:
    huge = " ".join(f"Sentence number {i} is here." for i in range(200))
    fixed, warnings = fit_text(huge + "\n\n" + DISCLOSURE, 1000, "Instagram")
    assert len(fixed) <= 1000
    assert fixed.endswith(DISCLOSURE)
    assert fixed.split("\n\n")[0].endswith(".")
    assert warnings


def test_apply_limits_on_a_social_post_and_a_flyer() -> None:
    post = {
        "facebook_text": "F" * 10 + "\n\n" + "word. " * 1000 + "\n\n" + DISCLOSURE,
        "instagram_text": "I\n\n" + DISCLOSURE,
        "hashtags": [f"#T{i}" for i in range(40)],
    }
    fixed, warnings = apply_limits("social_media_post", post)
    assert len(fixed["facebook_text"]) <= FACEBOOK_TEXT_MAX
    assert DISCLOSURE in fixed["facebook_text"]
    assert len(fixed["hashtags"]) == 30
    assert [w.kind for w in warnings] == ["limits"]
    flyer = {"bullets": [f"b{i}" for i in range(12)]}
    fixed, warnings = apply_limits("flyer_text", flyer)
    assert fixed["bullets"] == [f"b{i}" for i in range(8)]
    assert len(warnings) == 1
