"""kill -9 at any moment of publishing: no duplicate post, no lost decision (PRODUCT §7).

Real publisher processes (bench/publish.py's workers) are SIGKILLed mid-round against the
fake Graph API; after each kill a restarted process settles their posts with the platform,
and a last process publishes the rest. PostgreSQL, in a scratch database of its own.
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
    args = argparse.Namespace(
        posts=48, accounts=4, latency=0.1, concurrency=8, kills=2, seed=3, publish_interval=30.0
    )
    out = await publish.killed_workers(scratch_url, args)
    assert out["processes_killed"] >= 2, out
    assert out["duplicates"] == 0 and out["lost_rows"] == 0 and out["lost_pieces"] == 0, out
    assert out["rows"] == {"success": 48} and out["visible_posts"] == 48, out
    # The fake can always tell: nothing is left "outcome unknown", nothing published unrecorded.
    assert out["outcome_unknown_rows"] == 0 and out["unknown_but_published"] == 0, out
    assert sum(r["in_flight_at_kill"] for r in out["rounds"]) > 0, out
    for r in out["rounds"]:
        assert r["settled"] == r["in_flight_at_kill"] and r["within_one_interval"], out
        assert r["found_published"] + r["retried"] == r["in_flight_at_kill"], out
    assert out["meets_target"] is True
