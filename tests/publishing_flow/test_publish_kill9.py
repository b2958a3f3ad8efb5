"""kill -9 at any moment of publishing: no duplicate post, no lost decision (PRODUCT §7).

Real publisher processes (bench/publish.py's workers) are SIGKILLed mid-round against the
fake Graph API, then a restart recovers their claims and a last process publishes the
rest. PostgreSQL, in a scratch database of its own.
"""

from __future__ import annotations

import argparse

import pytest

from bench import publish


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_killed_publishers_never_post_twice_and_leave_no_post_undecided(
    scratch_url: str,
) -> None:
    # 4 accounts, 12 posts each: one account's posts take a few seconds one after the
    # other, so the kills (within a second of the first claim) land mid-round.
    args = argparse.Namespace(posts=48, accounts=4, latency=0.1, concurrency=8, kills=2, seed=3)
    out = await publish.killed_workers(scratch_url, args)
    assert out["processes_killed"] >= 2, out
    assert out["duplicates"] == 0 and out["lost_rows"] == 0 and out["lost_pieces"] == 0, out
    assert sum(out["rows"].values()) == 48 and out["failed_other_than_unknown"] == 0, out
    # Only a post in flight when its process died can be "outcome unknown", and it is on
    # the page at most once.
    assert out["recovered_as_outcome_unknown"] == out["rows"].get("failed", 0) > 0, out
    assert 0 <= out["unknown_but_published"] <= out["recovered_as_outcome_unknown"], out
    assert out["meets_target"] is True
