"""Options shared by every recurring job."""

from __future__ import annotations

from typing import Any

# APScheduler options: a job never overlaps itself; missed runs collapse into one.
NO_OVERLAP: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
