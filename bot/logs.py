"""Logging set-up: plain or JSON lines, each carrying the correlation id of its question.

The correlation id is the answer's id (also the value of its Stop and Retry buttons), set in
a context variable when an answer starts, so every line logged while answering it — ours,
Bolt's, the SDKs' — can be found together.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

# HTTP client libraries that log every request at INFO ("HTTP Request: POST …"): one line per
# model call and Slack call is noise in the bot's log and in `shopmax-bot ask`'s output. They
# still log warnings, and everything at DEBUG.
CHATTY = ("httpx", "httpx2", "httpcore", "httpcore2")


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation_id (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Send all logs to stderr at `level`, as `text` or `json` lines."""
    handler = logging.StreamHandler()
    handler.addFilter(CorrelationFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
