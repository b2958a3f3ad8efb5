"""Test images served from the fake's own `/images/<name>`, for pre-flight checks."""

from __future__ import annotations

import asyncio
import io

from aiohttp import web
from PIL import Image

from tests.fakes.graph_api.records import FakeImage


class ImageMethods:
    """Test images served from the fake's own `/images/<name>`, for pre-flight checks.

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def image_url(self, name: str) -> str:
        return f"{self.root_url}/images/{name}"

    def add_jpeg(
        self, name: str, width: int, height: int, *, pad_to_bytes: int | None = None
    ) -> str:
        """Serve a JPEG of the given size; `pad_to_bytes` appends junk to reach a file size."""
        return self._add_picture(name, width, height, "JPEG", "image/jpeg", pad_to_bytes)

    def add_png(self, name: str, width: int, height: int) -> str:
        return self._add_picture(name, width, height, "PNG", "image/png", None)

    def add_file(self, name: str, body: bytes, content_type: str, *, chunked: bool = False) -> str:
        """Serve arbitrary bytes (HTML, a truncated JPEG, …); `chunked` omits Content-Length."""
        fmt, width, height = None, 0, 0
        try:
            with Image.open(io.BytesIO(body)) as img:
                fmt, (width, height) = img.format, img.size
        except Exception:
            pass
        self.images[name] = FakeImage(body, content_type, fmt, width, height, chunked)
        return self.image_url(name)

    def _add_picture(
        self,
        name: str,
        width: int,
        height: int,
        fmt: str,
        content_type: str,
        pad_to_bytes: int | None,
    ) -> str:
        buf = io.BytesIO()
        Image.new("RGB", (width, height), (200, 120, 40)).save(buf, format=fmt)
        body = buf.getvalue()
        if pad_to_bytes and pad_to_bytes > len(body):
            body += b"\0" * (pad_to_bytes - len(body))
        self.images[name] = FakeImage(body, content_type, fmt, width, height)
        return self.image_url(name)

    async def _serve_image(self, request: web.Request, path: str) -> web.StreamResponse:
        if self.image_latency_s > 0:
            await asyncio.sleep(self.image_latency_s)
        image = self.images.get(path.removeprefix("/images/"))
        if image is None:
            return web.Response(status=404, text="<html>Not found</html>", content_type="text/html")
        if request.method == "HEAD":
            return web.Response(headers={"Content-Type": image.content_type})
        if not image.chunked:
            return web.Response(body=image.body, headers={"Content-Type": image.content_type})
        resp = web.StreamResponse(headers={"Content-Type": image.content_type})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        step = 256 * 1024
        try:
            for start in range(0, len(image.body), step):
                await resp.write(image.body[start : start + step])
            await resp.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading once it had seen enough
        return resp
