"""The tools Claude may call while it answers, as the model stream sees them.

`Tools` is what `stream.stream_answer` needs: the schemas to send, and a way to run one call.
Running never raises into the answer: whatever goes wrong becomes a `ToolResult` with
`is_error`, which goes back to Claude as a `tool_result` so it can answer around it. The
catalog's tools (`bot.catalog.tools`) are the ones the bot ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave back: JSON text for Claude, or an error Claude should read."""

    content: str
    is_error: bool = False


class Tools(Protocol):
    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The tools' definitions as the Messages API takes them."""
        ...

    async def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one call; never raises."""
        ...
