"""Hypothesis profiles for the fuzz suite.

`ci` (chosen when CI=true) is derandomized, so a CI run is repeatable, and bounded so
the whole folder runs in well under two minutes on a 2-core machine. `dev` draws fresh
examples each run, to find what CI cannot. Neither writes an example database into the
repository. HYPOTHESIS_PROFILE picks a profile by name (`deep`: many more examples).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "database": None,
    # Examples are cheap but the machine is shared: timings vary, sizes do not matter.
    "suppress_health_check": (HealthCheck.too_slow, HealthCheck.data_too_large),
    "deadline": 2000,  # ms per example; a test with a stricter bound sets its own
    "print_blob": True,
}
settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
# A bug hunt before a release: HYPOTHESIS_PROFILE=deep (several minutes).
settings.register_profile("deep", max_examples=1000, **_COMMON)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)
