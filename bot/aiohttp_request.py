"""PTB's HTTP transport on aiohttp instead of httpx.

PTB's default `HTTPXRequest` costs 1.5-3.5 ms of CPU per Bot API call in this process
(httpx + httpcore + anyio + h11, all pure Python; httpcore also rescans every pooled
connection, with a poll() each, whenever a request starts or ends). aiohttp does the same
call in about 0.2 ms (C parser, O(1) pool). A tap is at least two calls (answer + edit),
so the transport was most of a tap's cost (bench/approval.py). Behaviour follows
`HTTPXRequest`: same defaults, timeouts per call, `TimedOut` / `NetworkError` on failure,
and the status code and body handed back for PTB to interpret. Parameters travel as a
JSON body, or as multipart form data when a file is uploaded (Bot API: both accepted).
"""

from __future__ import annotations

import json

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.ptb_private import DefaultValue, ODVInput
from services import metrics
from services.redaction import redact

_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one `aiohttp.ClientSession`."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the client session (its connection pool)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0),
                headers={"User-Agent": self.USER_AGENT},
                # No cookies: the Bot API sets none, and a jar costs time per request.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; returns (HTTP status, body)."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        # `contains_files` is a flag; `multipart_data` walks every parameter to build a dict.
        files = (
            request_data.multipart_data if request_data and request_data.contains_files else None
        )
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._write_timeout if not files else self._media_write_timeout
        else:
            write = write_timeout
        # aiohttp has no separate write timeout: the body is written within the time
        # allowed until the first byte of the answer (sock_read counts from then on).
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=_sum(read, write),
        )
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None and files:
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None and request_data.parameters:
            # A JSON body (which the Bot API accepts except for uploads): one C-speed
            # json.dumps instead of URL-encoding every character of the message text.
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = _JSON
        try:
            # No redirects: the Bot API sends none, and following one would carry the
            # `/bot<token>/` URL to another place (and into the error text of a failure there).
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                if response.status >= 400:
                    metrics.telegram_status_error(response.status)
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts subclass it
            metrics.telegram_error("timeout")
            raise TimedOut from err
        except aiohttp.ClientError as err:
            metrics.telegram_error("network")
            raise NetworkError(redact(f"aiohttp.{err.__class__.__name__}: {err}")) from err


def _sum(*parts: float | None) -> float | None:
    """None (no limit) if any part is None, else the sum."""
    total = 0.0
    for part in parts:
        if part is None:
            return None
        total += part
    return total
