"""Structured logging (key=value lines) that never shows a secret."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from services.redaction import redact

_STD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

# HTTP client libraries log every request URL at INFO (httpx, its forks such as httpx2 under
# the OpenAI SDK, urllib3, ...), and those URLs can hold a token (Telegram's `/bot<token>/`).
# They are recognised by name and by the shape of the line, not by a list that goes stale.
_HTTP_LOGGER = re.compile(
    r"(?:^|\.)(?:httpx\w*|httpcore\w*|h11|h2|urllib3\w*|aiohttp\.client\w*|_base_client)(?:\.|$)"
)
_REQUEST_LINE = re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+[a-z][\w+.-]*://")
# Libraries that are only noise at INFO.
_QUIET = ("apscheduler", "aiosqlite", "alembic")


class HttpRequestLogFilter(logging.Filter):
    """Drops HTTP client request logs below WARNING (they carry URLs, never news)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for an HTTP request line below WARNING."""
        if record.levelno >= logging.WARNING:
            return True
        if _HTTP_LOGGER.search(record.name):
            return False
        return not _REQUEST_LINE.search(_message(record))


class RedactingFilter(logging.Filter):
    """Redacts every record in place: message and arguments, extras, traceback, stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's text by its redacted form; never drops a record."""
        record.msg = redact(_message(record))
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key in _STD_ATTRS or value is None or isinstance(value, bool | int | float):
                continue
            record.__dict__[key] = redact(value if isinstance(value, str) else str(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a malformed call (wrong argument count) still gets logged, redacted
        return f"{record.msg} {record.args}"


class StructuredFormatter(logging.Formatter):
    """`time level logger message key=value …` (the record is already redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as a single line (plus traceback if any)."""
        extras = {k: v for k, v in record.__dict__.items() if k not in _STD_ATTRS}
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            record.name,
            record.getMessage(),
        ]
        parts += [
            f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
            for k, v in sorted(extras.items())
        ]
        line = " ".join(parts)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def logging_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler that writes structured lines, without HTTP request logs or secrets."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(StructuredFormatter())
    handler.addFilter(HttpRequestLogFilter())
    handler.addFilter(RedactingFilter())
    return handler


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Configure the root logger once for the process (to stderr unless `stream`)."""
    root = logging.getLogger()
    root.handlers[:] = [logging_handler(stream)]
    root.setLevel(level)
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
