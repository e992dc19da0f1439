"""Server-Sent Events as the Messages API streams them, read straight from the bytes (pure).

The SDK's own stream builds a typed (pydantic) object for every event, which is most of the CPU
a streamed token costs; with a hundred answers streaming at once that is the bot's busiest
work, and it delays every question waiting for its turn on the event loop. The answer needs
only a few fields of a few event types, so `stream.py` asks the SDK for the raw response (its
request, headers, retries and status errors stay the SDK's) and reads the events here, each
one's `data` parsed as plain JSON.

The wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html): lines ending
in LF or CRLF; `event: <name>` and `data: <json>` fields; a blank line ends an event; a line
starting with `:` is a comment. An event larger than `MAX_EVENT` bytes, or data that is not a
JSON object, is a broken stream (`StreamError("malformed_stream")`), never a hang or a crash
elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_EVENT = 1024 * 1024  # bytes: a text delta is a few bytes, a whole message a few KB


class StreamError(Exception):
    """The event stream said something went wrong (its `error` event, `kind` its type), or
    is not what the Messages API sends (`kind` "malformed_stream")."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


def malformed(detail: str) -> StreamError:
    return StreamError("malformed_stream", detail)


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]


class EventReader:
    """Feed it the response's bytes as they arrive; it returns each event as it completes.

    The bytes are kept in one buffer searched only where new bytes arrived, so an event read
    in many small pieces costs time in proportion to its size, not to its size squared.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._searched = 0  # the buffer before this holds no event's end
        self._broken: StreamError | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        """The events `chunk` completes. A broken event raises, after the good events before
        it have been returned (they were sent first: their text is shown)."""
        if self._broken is not None:
            raise self._broken
        buffer = self._buffer
        buffer += chunk
        events: list[Event] = []
        while True:
            end, size = _event_end(buffer, self._searched)
            if end < 0:
                break
            raw = bytes(buffer[:end])
            del buffer[: end + size]
            self._searched = 0
            try:
                event = _parse(raw)
            except StreamError as exc:
                if not events:
                    raise
                self._broken = exc
                return events
            if event is not None:
                events.append(event)
        self._searched = max(len(buffer) - 3, 0)  # a separator may straddle the next chunk
        if len(buffer) > MAX_EVENT:
            raise malformed(f"an event longer than {MAX_EVENT} bytes")
        return events

    def end(self) -> None:
        """The bytes have ended: raise what broke the stream, if anything did."""
        if self._broken is not None:
            raise self._broken


def _event_end(buffer: bytearray, start: int) -> tuple[int, int]:
    """Where the first event in `buffer` ends (a blank line), searching from `start`, and the
    separator's length; (-1, 0) when none has."""
    lf = buffer.find(b"\n\n", start)
    crlf = buffer.find(b"\r\n\r\n", start)
    if crlf != -1 and (lf == -1 or crlf < lf):
        return crlf, 4
    return (lf, 2) if lf != -1 else (-1, 0)


def _parse(raw: bytes) -> Event | None:
    name, data = "message", []
    # Lines end at LF (a CR before it dropped), split as bytes: JSON strings may hold U+2028,
    # U+2029 or U+0085 raw, which `str.splitlines` would take for line ends.
    for line_bytes in raw.split(b"\n"):
        line = line_bytes.removesuffix(b"\r").decode("utf-8", errors="replace")
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if not data:
        return None  # a comment or a bare `event:`: nothing to act on
    try:
        parsed = json.loads("\n".join(data))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise malformed(f"event {name!r} carries data that is not JSON") from exc
    if not isinstance(parsed, dict):
        raise malformed(f"event {name!r} carries JSON that is not an object")
    parsed.setdefault("type", name)  # the API names an event twice; the name will do
    return Event(name, parsed)
