"""What an answer holds of its asker's tokens while it runs: its first request's cost at
admission, topped up before each further tool round (the rule, and the bound it keeps, are in
`bot.answering.gate`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.answering.gate import Gate
from bot.answering.running import Running
from bot.model.tools import Tools
from bot.model.usage import Usage, request_tokens


def round_cost(
    system: object, messages: Sequence[Any], tools: Tools | None, max_tokens: int
) -> int:
    """What one model request may cost at most: its input as estimated from its bytes
    (`request_tokens`: system prompt, tools and messages as sent) and its output ceiling."""
    schemas = tools.schemas if tools is not None else None
    return request_tokens(system, schemas, messages) + max_tokens


async def afford(
    gate: Gate,
    running: Running,
    used: Usage,
    params: dict[str, Any],
    tools: Tools | None,
    max_tokens: int,
) -> bool:
    """Before a further tool round: hold enough for it (the tokens used so far plus what the
    round may cost), topping the reservation up if the asker's allowance covers it. False:
    it does not, and the round must not start."""
    need = used.total + round_cost(params["system"], params["messages"], tools, max_tokens)
    more = need - running.reserved
    if more > 0:
        if not await gate.top_up(running.question, running.answer_id, more):
            return False
        running.reserved = need
    return True
