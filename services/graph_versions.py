"""Graph API versions: which one to use, and how long a configured one keeps working.

Meta keeps a version usable until two years after the next one is released; a call to an
expired version is silently served by the oldest usable one (specs/EXTERNAL_APIS.md §8.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

GRAPH_HOST = "https://graph.facebook.com"

# Release dates from Meta's Graph API changelog. The last entry is the version this product
# uses by default; add a row when Meta releases the next one.
GRAPH_VERSIONS: dict[str, date] = {
    "v19.0": date(2024, 1, 23),
    "v20.0": date(2024, 5, 21),
    "v21.0": date(2024, 10, 2),
    "v22.0": date(2025, 1, 21),
    "v23.0": date(2025, 5, 29),
    "v24.0": date(2025, 10, 8),
    "v25.0": date(2026, 2, 18),
    "v26.0": date(2026, 7, 29),
    "v27.0": date(2026, 11, 4),
}
CURRENT_GRAPH_VERSION = max(GRAPH_VERSIONS, key=GRAPH_VERSIONS.__getitem__)
DEFAULT_GRAPH_API_BASE_URL = f"{GRAPH_HOST}/{CURRENT_GRAPH_VERSION}"

# Say so this long before a version stops working: time to test and deploy the next one.
WARN_BEFORE = timedelta(days=90)

_VERSION_IN_URL = re.compile(r"/(v\d+\.\d+)(?:/|$)")


@dataclass(frozen=True)
class VersionStatus:
    """The configured version and what to do about it."""

    version: str | None
    usable_until: date | None
    ok: bool  # False once it has stopped working
    warning: bool  # close to its end, or not recognisable
    advice: str


def usable_until(version: str) -> date | None:
    """When `version` stops working: two years after the next release (estimated for the
    newest, which has no successor yet); None for a version newer than this table."""
    oldest = min(GRAPH_VERSIONS, key=GRAPH_VERSIONS.__getitem__)
    if version not in GRAPH_VERSIONS:
        # Older than every row: it ended no later than the oldest row does.
        return usable_until(oldest) if _number(version) < _number(oldest) else None
    later = sorted(d for d in GRAPH_VERSIONS.values() if d > GRAPH_VERSIONS[version])
    return _plus_two_years(later[0] if later else GRAPH_VERSIONS[version])


def version_status(base_url: str, today: date) -> VersionStatus:
    """How the Graph version in `base_url` stands on `today`, with what to do about it."""
    found = _VERSION_IN_URL.search(base_url)
    move = f"set GRAPH_API_BASE_URL to {DEFAULT_GRAPH_API_BASE_URL}"
    if found is None:
        return VersionStatus(
            None, None, True, True, f"no version in the URL, so Meta picks one; {move}"
        )
    version = found.group(1)
    until = usable_until(version)
    if until is None:
        return VersionStatus(
            version, None, True, False, f"{version}, newer than this release knows"
        )
    if version == CURRENT_GRAPH_VERSION:
        move = "a newer Graph API version is probably out: update rltr-mktg"
    if today >= until:
        return VersionStatus(
            version,
            until,
            False,
            True,
            f"{version} stopped working by {until} (Meta answers its calls with "
            f"the oldest version still usable); {move}",
        )
    days = (until - today).days
    if days <= WARN_BEFORE.days:
        return VersionStatus(
            version,
            until,
            True,
            True,
            f"{version} stops working around {until}, in {days} days; {move}",
        )
    return VersionStatus(version, until, True, False, f"{version}, usable until {until}")


def _number(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split("."))


def _plus_two_years(day: date) -> date:
    try:
        return day.replace(year=day.year + 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 2, day=28)
