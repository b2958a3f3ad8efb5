"""SQLite connections run in threads of their own: they must not each keep a malloc arena."""

from __future__ import annotations

import asyncio
import sys

import pytest

from db.migrate import PACKAGE_PARENT

# Counts glibc's malloc arenas (malloc_info's <heap> elements) after every connection of
# an SQLite engine has worked in its thread.
_SCRIPT = """
import asyncio, ctypes, os, sys, tempfile
from sqlalchemy import text
from db.session import create_engine

async def main():
    folder = tempfile.mkdtemp()
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/arenas.db")
    async def work():
        async with engine.connect() as conn:
            for _ in range(50):
                await conn.execute(text("select randomblob(60000), hex(randomblob(20000))"))
    await asyncio.gather(*(work() for _ in range(6)))
    await engine.dispose()

asyncio.run(main())
libc = ctypes.CDLL("libc.so.6")
libc.fdopen.restype = ctypes.c_void_p
read, write = os.pipe()
stream = libc.fdopen(write, b"w")
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(os.read(read, 1 << 20).decode().count("<heap nr="))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc malloc arenas")
async def test_sqlite_connection_threads_share_one_malloc_arena() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PACKAGE_PARENT)}  # no MALLOC_ARENA_MAX
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SCRIPT, cwd=PACKAGE_PARENT, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert int(out.decode().strip()) == 1
