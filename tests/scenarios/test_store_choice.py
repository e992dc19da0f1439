"""Which store an answer is for: `/shopmax store` in a DM (a person's own) and in a channel (an
admin's mapping), the store reaching the model after the cached system prompt, kept across a
restart, and an answer that goes out without it while the database is away.

The real Bolt app against the fake Slack and the fake Messages API; the sample catalog's six
cities are its stores (codes MUMBAI, DELHI, BENGALURU, HYDERABAD, CHENNAI, KOLKATA).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.catalog.base import Feed, ProductRow, StockRow, StoreRow
from bot.store.base import CHANNEL_SCOPE, PERSON_SCOPE
from bot.wording import texts
from tests.conftest import CHANNEL, USER, Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, TEAM, FakeSlack
from tests.services import ThrowawayPostgres

DM = "D0PRIYA"
ADMIN = "U0MANAGER"


async def said(bot: Bot, text: str, **fields: str) -> str:
    """`/shopmax TEXT` and the ephemeral reply on its ack."""
    response = await bot.command(text, **fields)
    assert response.status == 200
    body = json.loads(response.body)
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


def system_of(model: FakeAnthropic, call: int = 0) -> list[dict[str, Any]]:
    system: list[dict[str, Any]] = model.calls[call].body["system"]
    return system


async def ask_in(bot: Bot, channel: str, text: str = "is the LG fridge in stock?") -> None:
    """A mention in `channel`, waited on until its answer is finished."""
    asked = len([m for m in bot.slack.messages if m.channel == channel])
    ts = f"17000{len(bot.slack.messages):05d}.000100"
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> {text}", ts=ts, channel=channel))
    await bot.finished_answers(asked + 1, channel=channel)
    await bot.services.answerer.wait_idle(10)


async def test_a_person_sets_their_own_store_in_a_dm_and_sees_it(
    bot: Bot, model: FakeAnthropic
) -> None:
    assert "You have not set your own store" in await said(bot, "store", channel_id=DM)
    reply = await said(bot, "store mumbai", channel_id=DM)
    assert reply == texts.store_set("Mumbai (MUMBAI)", channel=False)
    store = bot.services.store
    choice = await store.store_choice(TEAM, PERSON_SCOPE, USER)
    assert choice is not None and (choice.code, choice.by) == ("MUMBAI", USER)
    status = await said(bot, "STORE", channel_id=DM)
    assert "Your own store is *Mumbai (MUMBAI)*" in status and "`/shopmax store CODE`" in status
    assert texts.store_cleared(channel=False) == await said(bot, "store clear", channel_id=DM)
    assert await store.store_choice(TEAM, PERSON_SCOPE, USER) is None
    assert model.calls == []


async def test_only_an_admin_maps_a_channel(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Someone in SHOPMAX_ADMIN_USERS, or a workspace admin as users.info says; not a member
    (whatever the request claims about them)."""
    bot = await make_bot(admin_users=frozenset({ADMIN}))
    store = bot.services.store
    refused = await said(bot, "store chennai", is_admin="true", user_is_admin="true")
    assert refused == texts.STORE_NOT_ADMIN
    assert await store.store_choice(TEAM, CHANNEL_SCOPE, CHANNEL) is None
    assert texts.STORE_NOT_ADMIN == await said(bot, "store clear")
    assert "/shopmax store chennai" not in str([m.text for m in slack.messages])

    mapped = await said(bot, "store chennai", user_id=ADMIN)
    assert mapped == texts.store_set("Chennai (CHENNAI)", channel=True)
    slack.workspace_admins.add("U0OWNER")
    assert "Kolkata (KOLKATA)" in await said(bot, "store KOLKATA", user_id="U0OWNER")
    choice = await store.store_choice(TEAM, CHANNEL_SCOPE, CHANNEL)
    assert choice is not None and (choice.code, choice.by) == ("KOLKATA", "U0OWNER")
    # Slack is asked once per person (for ADMIN the setting answers): its answer is kept.
    assert [c.payload["user"] for c in slack.calls_to("users.info")] == [USER, "U0OWNER"]
    status = await said(bot, "store")
    assert "This channel is mapped to *Kolkata (KOLKATA)*" in status
    # An admin of another organisation's workspace, in a Slack Connect channel: not ours.
    slack.workspace_admins.add("U0VENDOR")
    slack.user_teams["U0VENDOR"] = "T0VENDOR"
    assert await said(bot, "store delhi", user_id="U0VENDOR") == texts.STORE_NOT_ADMIN
    assert model.calls == []


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("MUMBAI-9", ["MUMBAI"]),
        ("kolkotta", ["KOLKATA"]),
        ("Bangalor", ["BENGALURU"]),
    ],
)
async def test_an_unknown_code_names_the_nearest_known_and_changes_nothing(
    bot: Bot, typed: str, nearest: list[str]
) -> None:
    reply = await said(bot, f"store {typed}", channel_id=DM)
    assert reply.startswith(f"There is no store with the code `{typed}`.")
    for code in nearest:
        assert f"`{code}`" in reply
    assert "Nothing was changed" in reply
    assert await bot.services.store.store_choice(TEAM, PERSON_SCOPE, USER) is None


@pytest.mark.parametrize(
    "typed",
    [
        "<@U0BOSS>",
        "<!channel>",
        "<!subteam^S123|@floor>",
        "<https://evil.example|MUMBAI>",
        "*MUMBAI*",
        "`MUMBAI`",
        "MUMBAI\u202e",
        "मुंबई",
        "M" * 5000,
        "\u0000",
    ],
)
async def test_hostile_codes_change_nothing_and_ping_nobody(bot: Bot, typed: str) -> None:
    reply = await said(bot, f"store {typed}", channel_id=DM)
    assert await bot.services.store.store_choice(TEAM, PERSON_SCOPE, USER) is None
    assert "<@" not in reply and "<!" not in reply and "<http" not in reply
    assert len(reply) < 600
    assert "Nothing was changed" in reply


async def test_store_with_more_words_is_a_question(bot: Bot, model: FakeAnthropic) -> None:
    """ "store timings in Pune?" is asked, not taken for a code."""
    model.script(Script(chunks=["10 to 9."]))
    response = await bot.command("store timings in Pune?")
    assert (response.status, response.body) == (200, "")
    await bot.finished_answers()
    assert model.calls[0].body["messages"][-1]["content"] == "store timings in Pune?"


async def test_a_question_in_a_mapped_channel_tells_the_model_its_store_after_the_cache(
    make_bot: BotFactory, model: FakeAnthropic
) -> None:
    """The cached prompt is the same for every asker; the store is a block after it. A
    person's own store applies where the channel has none; the channel's comes first."""
    bot = await make_bot(admin_users=frozenset({USER}))
    model.script(*(Script(chunks=["Checking."]) for _ in range(3)))
    await ask_in(bot, "C0NOSTORE")
    await said(bot, "store delhi", channel_id=DM)
    await said(bot, "store HYDERABAD")
    await ask_in(bot, CHANNEL)
    await ask_in(bot, "C0NOSTORE")
    plain, mapped, own = system_of(model, 0), system_of(model, 1), system_of(model, 2)
    assert len(plain) == 1 and plain[0]["cache_control"] == {"type": "ephemeral"}
    assert mapped[0] == own[0] == plain[0]  # the cached prefix, unchanged
    assert "cache_control" not in mapped[1] and "cache_control" not in own[1]
    assert "ShopMax Hyderabad (store code HYDERABAD)" in mapped[1]["text"]
    assert "other ShopMax stores in Hyderabad" in " ".join(mapped[1]["text"].split())
    assert "ShopMax Delhi (store code DELHI)" in own[1]["text"]
    assert "as of 14:05 today" in plain[0]["text"] and "stale" in plain[0]["text"]
    tools = model.calls[1].body["tools"]
    assert tools[-1]["cache_control"] == {"type": "ephemeral"}


async def test_the_mapping_is_kept_across_a_restart(
    make_bot: BotFactory, model: FakeAnthropic
) -> None:
    first = await make_bot(admin_users=frozenset({USER}))
    await said(first, "store bengaluru")
    await first.services.close()
    again = await make_bot()
    model.script(Script(chunks=["Yes."]))
    await ask_in(again, CHANNEL)
    assert "store code BENGALURU" in system_of(model)[1]["text"]


async def test_while_the_database_is_away_the_answer_goes_out_without_a_store(
    make_bot: BotFactory,
    slack: FakeSlack,
    model: FakeAnthropic,
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    bot = await make_bot(database_url=throwaway_postgres.url, admin_users=frozenset({USER}))
    await said(bot, "store chennai")
    await throwaway_postgres.crash()
    model.script(Script(chunks=["The fridge is ", "in stock."]))
    await ask_in(bot, CHANNEL)
    assert len(system_of(model)) == 1  # no store: the cached prompt alone
    [answer] = [m for m in slack.messages if m.channel == CHANNEL]
    assert "in stock" in answer.markdown
    assert await said(bot, "store delhi", channel_id=DM) == texts.STORE_UNAVAILABLE


# A feed with two stores in Pune and one in Mumbai (a catalog of the chain's own, imported).
FEED = Feed(
    products=[
        ProductRow("SMX-MW-0001", "IFB 25L Convection", "IFB", "microwave", 12990, 15990, "1 year")
    ],
    stores=[
        StoreRow("PUN-01", "FC Road", "Pune", "Shivajinagar"),
        StoreRow("PUN-02", "Baner", "Pune"),
        StoreRow("MUM-01", "Andheri West", "Mumbai"),
    ],
    stock=[
        StockRow("SMX-MW-0001", "PUN-01", 0),
        StockRow("SMX-MW-0001", "PUN-02", 3),
        StockRow("SMX-MW-0001", "MUM-01", 5),
    ],
)


def tool_results(model: FakeAnthropic, call: int) -> str:
    """What the tools returned to the model in request `call`, as text."""
    return json.dumps(
        [
            block
            for message in model.calls[call].body["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "tool_result"
        ],
        ensure_ascii=False,
    )


async def test_check_stock_without_a_store_answers_for_the_askers_and_nearby_stores(
    make_bot: BotFactory, model: FakeAnthropic
) -> None:
    """In a channel mapped to PUN-01 (a store only the imported feed has), `check_stock` with
    just a SKU answers for PUN-01 and names the other Pune store that has it, not Mumbai's;
    the same call from a channel with no store answers for every store."""
    bot = await make_bot(admin_users=frozenset({USER}))
    assert bot.services.catalog is not None
    await bot.services.catalog.replace(FEED, at=time.time())
    assert await said(bot, "store pun-01") == texts.store_set(
        "FC Road (PUN-01), Shivajinagar, Pune", channel=True
    )
    check = ("check_stock", {"sku": "SMX-MW-0001"})
    model.script(
        Script(chunks=[], tool_calls=[check], stop_reason="tool_use"),
        Script(chunks=["0 here, 3 at Baner."]),
        Script(chunks=[], tool_calls=[check], stop_reason="tool_use"),
        Script(chunks=["3 at Baner, 5 at Andheri West."]),
    )
    await ask_in(bot, CHANNEL, "is the IFB microwave in stock?")
    assert "store code PUN-01" in system_of(model, 0)[1]["text"]
    here = tool_results(model, 1)
    assert 'your_store: \\"PUN-01\\"' in here  # the fields, as search-result text
    assert 'stock: {\\"FC Road\\": 0, \\"Baner\\": 3}' in here and "MUM-01" not in here
    assert "other_stores_in_city_with_stock: 1" in here
    await ask_in(bot, "C0NOSTORE", "is the IFB microwave in stock?")
    anywhere = tool_results(model, 3)
    assert "your_store" not in anywhere and "MUM-01" in anywhere and "PUN-02" in anywhere
