"""What is published: the platform's own text of a draft, exactly as the agent saw it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.publishing.graph_errors import Platform, service_name


class NoPostText(ValueError):
    """The piece has no text written for the platform (flyer text, for one): never publish."""


def post_text(generated_text: Mapping[str, Any], platform: str) -> str:
    """The text to publish on `platform`: exactly the platform's own text, as the agent saw it.

    Nothing is pieced together from other fields: that would publish what the agent never
    saw, without the brokerage and Equal Housing line. Raises `NoPostText` without it.
    """
    own = generated_text.get(f"{platform}_text")
    if isinstance(own, str) and own.strip():
        return own.strip()
    svc = service_name(as_platform(platform))
    raise NoPostText(f"This draft has no text written for {svc}, so nothing was published there.")


def as_platform(value: str) -> Platform:
    """The `Platform` a stored platform column names; ValueError for anything else."""
    if value == "instagram":
        return "instagram"
    if value == "facebook":
        return "facebook"
    raise ValueError(f"unknown platform {value!r}")
