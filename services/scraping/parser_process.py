"""Home pages parsed in a process of their own, for passes with many pages.

A page costs about 1 ms of parsing, most of it Python holding the GIL. In a thread, a
first pass of 2,000 homes made the event loop wait for the GIL at every turn (taps
answered in seconds); on the event loop itself it queued every tap behind pages.
`ParserProcess` runs `parse_home` in a child process of its own (it imports the
scraping package, not the bot), fed through asyncio pipes: no helper
thread in the bot's process, so the loop only pays for pickling (~0.05 ms a page).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from services.scraping.models import ParsedHome
from services.scraping.parser import parse_home

_HEADER = struct.Struct("!I")


class ParserProcessError(Exception):
    """The parser process failed a page with an error that could not be sent back as is."""


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


class ParserProcess:
    """`await parser(text, url)` parses in the child; use as `async with ParserProcess()`."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[ParsedHome]] = {}
        self._ids = itertools.count()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ParserProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            f"from {__name__} import serve; serve()",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read_answers())
        return self

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child ends at end of input
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            await self._reader

    @property
    def pid(self) -> int | None:
        """The child's process id (None before it started)."""
        return self._process.pid if self._process is not None else None

    async def __call__(self, text: str, url: str) -> ParsedHome:
        """Parse one page there; raises what `parse_home` raised."""
        assert self._process is not None and self._process.stdin is not None
        if self._reader is not None and self._reader.done():
            raise ParserProcessError("the parser process has ended")
        number = next(self._ids)
        answer: asyncio.Future[ParsedHome] = asyncio.get_running_loop().create_future()
        self._pending[number] = answer
        self._process.stdin.write(_frame((number, text, url)))
        await self._process.stdin.drain()
        return await answer

    async def _read_answers(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while True:
                try:
                    header = await stdout.readexactly(_HEADER.size)
                    body = await stdout.readexactly(_HEADER.unpack(header)[0])
                except asyncio.IncompleteReadError:
                    return
                number, ok, value = pickle.loads(body)  # noqa: S301 (our own child, its pipe)
                answer = self._pending.pop(number)
                if answer.done():  # its caller was cancelled
                    continue
                if ok:
                    answer.set_result(value)
                else:
                    answer.set_exception(value)
        finally:
            for answer in self._pending.values():
                if not answer.done():
                    answer.set_exception(ParserProcessError("the parser process ended"))
            self._pending.clear()


# Up to this many pages a pass parses in a thread: starting the process (~0.3 s of CPU)
# would cost more than the few milliseconds of GIL the pages take.
PROCESS_ABOVE_PAGES = 8

PageParser = Callable[[str, str], Awaitable[ParsedHome]]


async def _in_thread(text: str, url: str) -> ParsedHome:
    return await asyncio.to_thread(parse_home, text, url)


@contextlib.asynccontextmanager
async def pass_parser(pages: int) -> AsyncIterator[PageParser]:
    """How a pass of `pages` pages parses: in a parser process when there are more than a
    handful, else in a thread."""
    if pages <= PROCESS_ABOVE_PAGES:
        yield _in_thread
        return
    async with ParserProcess() as parser:
        yield parser


def serve() -> None:
    """The child: read (number, text, url) frames, answer (number, ok, home or error)."""
    # Background work: when the machine is busy, the bot's own process (taps) comes first,
    # and a pass slows down instead of the bot.
    if hasattr(os, "nice"):  # POSIX
        os.nice(10)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        number, text, url = pickle.loads(stdin.read(_HEADER.unpack(header)[0]))  # noqa: S301
        try:
            answer: tuple[int, bool, Any] = (number, True, parse_home(text, url))
        except Exception as exc:  # sent back to be raised in the bot's process
            answer = (number, False, exc)
        try:
            frame = _frame(answer)
        except Exception:  # an error that does not pickle: its name and words
            error = ParserProcessError(f"{type(answer[2]).__name__}: {answer[2]}")
            frame = _frame((number, False, error))
        try:
            stdout.write(frame)
            stdout.flush()
        except BrokenPipeError:  # the bot went away
            return
