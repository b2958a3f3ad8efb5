"""The bot process of bench/memory.py, run as `python -m bench._memory_child`.

A process of its own, started fresh (not forked or spawned from the bench, whose seeding
code and fake servers would otherwise be imported here and counted): it imports what
`rltr-mktg run` imports, applies migrations as `run` does, starts the real Application,
and runs the steps the parent asks for. One JSON object per line in both directions:
the config first, then step names on stdin; the memory after each step on stdout.

With `"profile": true` in the config it instead reports where the start-up memory goes:
resident memory added by each top-level package as it is first imported (in the order
the started bot imported them), and tracemalloc's largest allocations after start-up.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
import traceback
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def memory_mb() -> dict[str, float]:
    """This process's resident set now and at its peak (Linux /proc)."""
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": found["VmRSS"], "peak_rss_mb": found["VmHWM"]}


def _send(status: str, value: Any) -> None:
    sys.stdout.write(json.dumps([status, value], default=str) + "\n")
    sys.stdout.flush()


async def _start(config: dict[str, Any]) -> Any:
    """Migrate and start the bot as `rltr-mktg run` does (jobs off: the parent drives them)."""
    from bot.app import build_application, start_application
    from db import migrate
    from services.settings import load_settings

    settings = load_settings(
        telegram_bot_token=config["token"],
        telegram_api_base_url=config["telegram_url"],
        telegram_admin_ids=str(config["admin_id"]),
        database_url=config["database_url"],
        listings_base_url=config["site_url"],
        data_dir=config["data_dir"],
        default_timezone="America/New_York",
        _env_file=None,
    )
    await migrate.upgrade(config["database_url"])
    app = build_application(settings, with_jobs=False)
    await start_application(app)
    return app


async def _steps(config: dict[str, Any]) -> None:
    from bench._harness import bot_runtime, send_budget_lifted
    from bot.app import stop_application
    from bot.jobs import scrape_job
    from services.drafting.listing_drafts import DraftMaker
    from services.notifying import delivery

    app = await _start(config)
    try:
        # The 30 messages/s budget would only make the run longer.
        with send_budget_lifted(app):
            rt = bot_runtime(app)
            _send("ok", memory_mb())
            while True:
                command = json.loads(await asyncio.to_thread(sys.stdin.readline) or '"stop"')
                try:
                    if command == "stop":
                        _send("ok", None)
                        return
                    started = time.monotonic()
                    detail: dict[str, Any] = {}
                    tz = "America/New_York"
                    if command == "delivery":
                        drafts = await delivery.deliver_drafts(
                            rt.database, rt.notifier, default_timezone=tz
                        )
                        notes = await delivery.deliver_notifications(
                            rt.database, rt.notifier, default_timezone=tz
                        )
                        detail = {"drafts_sent": drafts.sent, "notifications_sent": notes.sent}
                    elif command == "scrape":
                        summary = await scrape_job.run_now(rt)
                        detail = {"summary": str(summary)[:300]}
                    elif command == "regenerate":
                        maker = rt.draft_maker
                        assert isinstance(maker, DraftMaker)
                        detail = {"regenerated": len(await maker.regenerate())}
                        await maker.backfill()
                    # Anything else: the parent drove the step; just report memory.
                    report = memory_mb() | {"seconds": round(time.monotonic() - started, 2)}
                    _send("ok", report | detail)
                except Exception:  # reported to the parent, which raises it
                    _send("error", traceback.format_exc())
    finally:
        await stop_application(app)


def _package(filename: str) -> str:
    """The top-level package (or stdlib module) a source file belongs to."""
    path = Path(filename)
    for parent in path.parents:
        if parent.name in ("site-packages", "lib-dynload") or parent == ROOT:
            return path.relative_to(parent).parts[0].removesuffix(".py")
        if parent.name.startswith("python3"):
            return "stdlib:" + path.relative_to(parent).parts[0].removesuffix(".py")
    return path.name


async def _profile(config: dict[str, Any]) -> None:
    """Where start-up memory goes; run in a process of its own (tracing costs memory)."""
    # 1. Import cost, package by package: the modules a started bot had imported, a
    #    package at a time (stdlib first, then third-party packages in the order the bot
    #    met them, then ours), so each package is charged what it adds to those before.
    ours = ("bot", "services", "db", "bench", "migrations")
    groups: dict[str, list[str]] = {}
    for name in config["modules"]:
        top = name.split(".")[0]
        key = "stdlib" if top in sys.stdlib_module_names or top.startswith("_") else top
        groups.setdefault(key, []).append(name)
    order = ["stdlib"] + [k for k in groups if k != "stdlib" and k not in ours]
    order += [k for k in ours if k in groups]
    imports: list[dict[str, Any]] = []
    for key in order:
        before, began = memory_mb()["rss_mb"], time.perf_counter()
        for name in groups[key]:
            try:
                importlib.import_module(name)
            except Exception:  # e.g. a module that only exists under a __main__ name
                continue
        imports.append(
            {
                "package": key,
                "rss_mb": round(memory_mb()["rss_mb"] - before, 1),
                "ms": round((time.perf_counter() - began) * 1000, 1),
            }
        )
    after_imports = memory_mb()["rss_mb"]
    from bot.app import stop_application

    # 2. What is allocated by the end of start-up (imports done above are not traced).
    tracemalloc.start(1)
    app = await _start(config)
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    await stop_application(app)
    by_package: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        key = _package(stat.traceback[0].filename)
        by_package[key] = by_package.get(key, 0) + stat.size
    top = snapshot.statistics("lineno")[:15]
    _send(
        "ok",
        {
            "import_rss_mb_by_package": sorted(imports, key=lambda i: -float(i["rss_mb"]))[:20],
            "rss_mb_after_imports": after_imports,
            "allocated_after_imports_kb_by_package": {
                k: round(v / 1024)
                for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]
            },
            "top_allocations_after_imports": [
                {
                    "where": f"{_package(s.traceback[0].filename)}:"
                    f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}",
                    "kb": round(s.size / 1024),
                    "blocks": s.count,
                }
                for s in top
            ],
        },
    )


async def _started_modules(config: dict[str, Any]) -> None:
    """The modules a started bot has imported, in import order."""
    from bot.app import stop_application

    app = await _start(config)
    await stop_application(app)
    _send("ok", [name for name in list(sys.modules) if name != "__main__"])


def main() -> None:
    """Read the config line, then run steps, list packages or profile."""
    sys.path.insert(0, str(ROOT))
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    config = json.loads(sys.stdin.readline())
    mode = config.get("mode", "steps")
    try:
        if mode == "steps":
            asyncio.run(_steps(config))
        elif mode == "modules":
            asyncio.run(_started_modules(config))
        else:
            asyncio.run(_profile(config))
    except Exception:
        _send("error", traceback.format_exc())


if __name__ == "__main__":
    main()
