"""The model's tool arguments are untrusted input: whatever it sends, the answer finishes.

Each call is checked against the tool's JSON schema; a bad one (or a crash inside the tool)
goes back to Claude as a `tool_result` with `is_error: true` saying what was wrong, Claude
answers around it, and the answer ends normally, in Slack and in the terminal, with its ledger
row.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.catalog.sqlite import SqliteCatalog
from tests.conftest import Bot, payload, run_bot
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack

TS = "1700013000.000100"
RECOVERED = "I could not look that up, sorry."

BAD_CALLS = [
    pytest.param("search_products", {"brand": 5}, "brand: must be string (given 5)", id="brand 5"),
    pytest.param(
        "search_products",
        {"category": ["tv"]},
        "category: must be string (given ['tv'])",
        id="category list",
    ),
    pytest.param(
        "search_products",
        {"min_price": 10**30},
        "min_price: must be smaller than or equal to 10000000 (given 10000000000000000000000000",
        id="min_price 10**30",
    ),
    pytest.param(
        "search_products",
        {"max_price": "50k"},
        "max_price: must be integer (given '50k')",
        id="max_price 50k",
    ),
    pytest.param(
        "search_products",
        {"query": "a " * 2000},
        "query: must be shorter than or equal to 200 characters (given 'a a a a",
        id="2,000-word query",
    ),
    pytest.param("get_product", {"sku": "X" * 10_000}, "(10,000 characters)", id="huge sku"),
    pytest.param(
        "check_stock",
        {"sku": "SMX-TV-0037", "warehouse": "all"},
        "takes no argument 'warehouse'; only city, sku, store",
        id="unknown field",
    ),
    pytest.param(
        "drop_tables", {"sku": "x"}, "There is no tool called 'drop_tables'", id="no such tool"
    ),
]


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body["messages"][-1]["content"]
    return [b for b in content if b["type"] == "tool_result"] if isinstance(content, list) else []


def bad_call_then_recovery(model: FakeAnthropic, name: str, args: dict[str, Any]) -> None:
    model.script(
        Script(chunks=["Let me check."], tool_calls=[(name, args)], stop_reason="tool_use"),
        Script(chunks=[RECOVERED]),
    )


@pytest.mark.parametrize(("name", "args", "said"), BAD_CALLS)
async def test_a_bad_tool_call_goes_back_to_claude_and_the_slack_answer_finishes(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic, name: str, args: dict[str, Any], said: str
) -> None:
    """Claude is told what was wrong (briefly), answers, and the message ends with its footer,
    no cursor and no Stop button; the ledger has the answer."""
    bad_call_then_recovery(model, name, args)
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> a TV?", ts=TS))
    [answer] = await bot.finished_answers()
    assert answer.markdown == f"Let me check.\n\n{RECOVERED}"
    assert "stop_answer" not in json.dumps(answer.blocks)
    [result] = tool_results(model.calls[1].body)
    assert result["is_error"] is True
    assert said in result["content"] and len(result["content"]) < 600
    await bot.handled(1)
    [row] = await bot.services.store.ledger(0)
    assert row.outcome == "ok"


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (
            {"category": "tv", "brand": 5, "max_price": "50k", "city": ["Mumbai"]},
            "_:mag: Looking up TVs…_",
        ),
        ({"query": "q" * 500}, f"_:mag: Looking up {'q' * 79}……_"),
    ],
    ids=["wrong types", "huge query"],
)
async def test_the_status_line_of_a_bad_call_shows_only_what_it_can(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic, args: dict[str, Any], status: str
) -> None:
    """Shown before the call is checked, the status line skips values of the wrong type and
    cuts a long one short, instead of failing."""

    async def shown() -> None:
        await slack.wait_for(lambda: slack.messages and status in slack.messages[0].context)

    model.script(
        Script(
            chunks=["Let me check."], tool_calls=[("search_products", args)], stop_reason="tool_use"
        ),
        Script(chunks=[RECOVERED], before_chunk={0: shown}),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> a TV?", ts=TS))
    [answer] = await bot.finished_answers()
    assert answer.markdown == f"Let me check.\n\n{RECOVERED}"


@pytest.mark.parametrize(("name", "args", "said"), [BAD_CALLS[0], BAD_CALLS[2]])
async def test_a_bad_tool_call_in_the_terminal_still_prints_the_answer_and_stats(
    model: FakeAnthropic, name: str, args: dict[str, Any], said: str, tmp_path: Path
) -> None:
    """`shopmax-bot ask` runs the same tools: the answer and its stats print, exit 0."""
    bad_call_then_recovery(model, name, args)
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": model.url,
        # A database of the test's own: the default (shopmax.db in the process's folder, /)
        # would be shared with every other checkout on the machine.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shopmax.db'}",
    }
    code, out, err = await run_bot("ask", "a TV?", env=env)
    assert code == 0, err
    assert out.splitlines()[0] == "ShopMax India Assistant: Let me check."
    assert RECOVERED in out and "Stop reason: end_turn" in out
    assert "Traceback" not in err
    [result] = tool_results(model.calls[1].body)
    assert result["is_error"] is True and said in result["content"]


class Held:
    """Holds the catalog's searches (on whatever thread runs them) until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.released_in_time: bool | None = None

    def hold(self, catalog: SqliteCatalog) -> None:
        read = catalog._read

        async def held_read(work: Callable[[Any], Any]) -> Any:
            if "search" not in getattr(work, "__qualname__", ""):
                return await read(work)

            def waiting(db: Any) -> Any:
                self.started.set()
                self.released_in_time = self.release.wait(timeout=5)
                return work(db)

            return await read(waiting)

        catalog._read = held_read  # type: ignore[method-assign]


async def test_a_catalog_search_leaves_the_event_loop_free_to_ack_slack(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """While one answer's search runs, another Slack event is dispatched and acked: the
    search is released only after that, which can happen only if it is off the event loop."""
    catalog = bot.services.catalog
    if not isinstance(catalog, SqliteCatalog):
        pytest.skip("holds the SQLite catalog's reads")
    held = Held()
    held.hold(catalog)
    model.by_question["hi"] = Script(chunks=["Second answer."])
    model.script(
        Script(
            chunks=[], tool_calls=[("search_products", {"query": "tv"})], stop_reason="tool_use"
        ),
        Script(chunks=["Found them."]),
    )
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> tvs?", ts=TS))
    await asyncio.to_thread(held.started.wait, 10)
    response = await bot.event(payload("app_mention", text=f"<@{BOT_USER}> hi", ts=TS + "2"))
    held.release.set()
    assert response.status == 200
    await bot.finished_answers(2)
    assert held.released_in_time is True, "the search blocked the loop until it gave up waiting"
    [result] = [r for call in model.calls for r in tool_results(call.body)]
    assert result["is_error"] is False and json.loads(result["content"][0]["text"])["count"] > 0
