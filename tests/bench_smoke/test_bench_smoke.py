"""The Telegram benches and the memory bench still run: tiny configurations, sane numbers.

SQLite always; PostgreSQL only with BENCH_DATABASE_URL, because a bench drops and
recreates the public schema of its database (never point it at TEST_DATABASE_URL,
which the rest of the suite is using). The parameter is not called `backend`, so that
tests/conftest.py does not tie it to TEST_DATABASE_URL.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench import approval, fanout, memory

BENCH_PG = os.environ.get("BENCH_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not BENCH_PG, reason="BENCH_DATABASE_URL is not set")
    ),
]


def _section(result: dict[str, Any], backend: str) -> dict[str, Any]:
    assert result["machine"]["cpus"]
    section = result[backend]
    assert isinstance(section, dict)
    return section


@pytest.mark.parametrize("bench_backend", BACKENDS)
async def test_approval_bench_in_small(bench_backend: str) -> None:
    backend = bench_backend
    opts = approval.Options(
        agents=6,
        concurrency=3,
        rate=40.0,
        sqlite_rate=40.0,
        scrape_rate=40.0,
        scrape_homes=40,
        revise_every=3,
        warmup=1,
    )
    result = await approval.run(opts, backend=backend, database_url=BENCH_PG or None)
    out = _section(result, backend)
    scrape = out["during_scrape"]["scrape"]
    assert scrape["homes_in_sitemap"] in (None, 40) and scrape["homes_parsed"] >= 1
    assert scrape["failures"] == 0
    for phase in ("max_rate", "baseline", "steady", "during_scrape"):
        numbers = out[phase]
        assert numbers["taps"] == 6 and numbers["incomplete"] == 0, phase
        assert numbers["taps_per_s"] > 0
        assert 0 < numbers["latency_ms"]["p50"] <= numbers["latency_ms"]["p99"]
        assert numbers["bot_process_cpu_ms_per_tap"] > 0
        assert numbers["fake_process_cpu_ms_per_tap"] > 0  # the fake ran in its own process
    assert out["ratio_to_baseline"] > 0
    sql = out["sql"]
    assert sql["taps_without_sql"] == 0 and sql["approve"]["taps"] == 4
    assert 1 <= sql["approve"]["statements_max"] <= 4
    assert sql["revise"]["statements_max"] == 1 and sql["revise"]["rollbacks"] == 0
    if backend == "postgresql":
        # The slot read, then the one write (PRODUCT.md allows 4; the ratio needs 2).
        assert sql["approve"]["round_trips_max"] == 2
    done = out["committed"]
    assert done["approved_committed"] == done["approved_expected"] > 0
    assert done["log_rows"] == done["approved_expected"] and done["duplicate_log_rows"] == 0
    assert done["schedule_rows"] == done["schedule_rows_expected"]
    assert done["pending_feedback_rows"] == done["pending_feedback_expected"] == 2
    assert done["baseline_drafts_unchanged"] == done["baseline_drafts"]


@pytest.mark.parametrize("bench_backend", BACKENDS)
async def test_fanout_bench_in_small(bench_backend: str) -> None:
    backend = bench_backend
    opts = fanout.Options(agents=5, photos=2)
    result = await fanout.run(opts, backend=backend, database_url=BENCH_PG or None)
    out = _section(result, backend)
    assert out["delivery"] == {"sent": 5, "failed": 0, "deferred": 0, "skipped": 0}
    assert out["send_requests_by_method"] == {"sendMediaGroup": 5, "sendMessage": 5}
    assert out["throttled_429"] == 0 and out["send_requests_by_status"] == {"200": 10}
    assert out["messages_in_chats"] == 15  # two photos and the draft, per agent
    assert out["drafts_with_buttons"] == 5 and out["chats_with_extra_sends"] == 0
    assert out["targets_met"]["zero_429s"] is True


@pytest.mark.parametrize("bench_backend", BACKENDS)
async def test_memory_bench_in_small(bench_backend: str) -> None:
    backend = bench_backend
    opts = memory.Options(
        listings=40, drafts=200, agents=5, changed_pct=5.0, timeout=120.0, quiet_s=0.3
    )
    result = await memory.run(opts, backend=backend, database_url=BENCH_PG or None)
    out = _section(result, backend)
    assert out["seeded"]["drafts"] == 200 and out["seeded"]["changed_homes"] == 2
    steps = out["steps"]
    assert list(steps) == list(memory.STEPS)
    for name, step in steps.items():
        assert 0 < step["rss_mb"] <= step["peak_rss_mb"] <= out["peak_rss_mb"], name
    assert steps["delivery"]["drafts_sent"] == 20  # two drafts in twenty wait, none delivered
    assert "changed=2," in steps["scrape"]["summary"]
    assert steps["admin_commands"]["messages"] >= len(memory.ADMIN_COMMANDS)
    assert steps["agent_commands"]["messages"] >= len(memory.AGENT_COMMANDS)
    assert out["meets_target"] == (out["peak_rss_mb"] < memory.TARGET_MB)


def test_bench_refuses_postgres_without_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench._harness import BenchError, backends

    with pytest.raises(BenchError, match="BENCH_DATABASE_URL"):
        backends("postgresql", None)
    assert backends("both", None) == ["sqlite"]
