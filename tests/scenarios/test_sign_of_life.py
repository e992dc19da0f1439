"""A sign of life in the thread before the model's first word: Slack's loading status (tool lines
while tools run, cleared when the answer's text shows), or a reaction where it cannot be set,
at a pace that never earns a 429 storm. Each test holds the model's first words until the fake
Slack shows the sign, so the order asserted is the order a person sees."""

from __future__ import annotations

from typing import Any

from bot.wording import texts
from tests.conftest import CHANNEL, Bot, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, Call, FakeSlack, markdown_of

ROOT = "1700030000.000100"
SONY = "SMX-TV-0005"
STATUS = "assistant.threads.setStatus"


def statuses(slack: FakeSlack, thread: str = ROOT) -> list[Call]:
    return [c for c in slack.calls_to(STATUS) if c.payload.get("thread_ts") == thread]


def first_text(slack: FakeSlack) -> int:
    """Where in the calls the answer's first words reached Slack."""
    return next(
        n
        for n, c in enumerate(slack.calls)
        if c.method in ("chat.postMessage", "chat.update")
        and c.status == 200
        and markdown_of(c.payload)
    )


def ask(ts: str = ROOT, text: str = "which TV under 50k?") -> dict[str, Any]:
    return payload("app_mention", text=f"<@{BOT_USER}> {text}", ts=ts)


async def test_the_loading_status_is_up_before_the_first_word_and_gone_when_it_shows(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Set before the first token; the answer's post in the thread clears it (Slack does so
    itself when the app replies), so no call of the bot's clears it."""

    async def status_shown() -> None:
        await slack.wait_for(lambda: slack.statuses.get((CHANNEL, ROOT)))

    model.script(Script(chunks=["The Sony", " Bravia 2."], before_chunk={0: status_shown}))
    await bot.event(ask())
    [answer] = await bot.finished_answers()
    await bot.handled(1)
    [loading] = statuses(slack)
    assert loading.payload["status"] == texts.LOADING_STATUS
    assert loading.payload["loading_messages"] == list(texts.LOADING_MESSAGES)
    assert loading.payload["channel_id"] == CHANNEL
    assert slack.calls.index(loading) < first_text(slack)
    assert slack.statuses == {}
    assert answer.markdown.startswith("The Sony Bravia 2.")
    assert slack.reactions == {} and slack.calls_to("reactions.add") == []


async def test_a_status_set_after_the_reply_was_posted_is_cleared_by_the_bot(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The first status reaches Slack only after the answer's message (the status call was
    slow): Slack's own clearing came before it, so the bot clears it."""
    slack.delay["assistant.threads.setStatus"] = 1.5
    model.script(Script(chunks=["The Sony", " Bravia 2."]))
    await bot.event(ask())
    await bot.finished_answers()
    await slack.wait_for(lambda: len(statuses(slack)) == 2 and not slack.statuses, within=10)
    assert statuses(slack)[-1].payload["status"] == ""


async def test_a_tools_status_line_is_shown_in_the_loading_state(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    line = f"Looking up {SONY}…"

    async def tool_line_shown() -> None:
        await slack.wait_for(
            lambda: any(line in (c.payload.get("loading_messages") or []) for c in statuses(slack))
        )

    model.script(
        Script(chunks=[], tool_calls=[("get_product", {"sku": SONY})], stop_reason="tool_use"),
        Script(chunks=["In stock."], before_chunk={0: tool_line_shown}),
    )
    await bot.event(ask(text=f"is {SONY} in stock?"))
    await bot.finished_answers()
    await bot.handled(1)
    assert slack.statuses == {}, "cleared by the answer's post"
    shown = [c.payload.get("loading_messages") for c in statuses(slack)]
    assert [line] in shown, shown
    tool = next(c for c in statuses(slack) if c.payload.get("loading_messages") == [line])
    assert slack.calls.index(tool) < first_text(slack)
    assert "_" not in line and ":mag:" not in str(shown), "plain text, no mrkdwn"


async def test_where_the_status_is_refused_a_reaction_stands_in_and_goes(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    slack.no_status.add(CHANNEL)  # an older workspace: setStatus answers not_allowed

    async def reacted() -> None:
        await slack.wait_for(lambda: slack.reactions.get((CHANNEL, ROOT)))

    model.script(Script(chunks=["Open till 9 pm."], before_chunk={0: reacted}))
    await bot.event(ask(text="store hours?"))
    await bot.finished_answers()
    await slack.wait_for(lambda: slack.calls_to("reactions.remove"))
    [added] = slack.calls_to("reactions.add")
    assert added.payload == {"channel": CHANNEL, "timestamp": ROOT, "name": texts.LOADING_REACTION}
    assert slack.reactions[(CHANNEL, ROOT)] == set()
    [refused] = statuses(slack)
    assert refused.error == "not_allowed"
    assert (
        slack.calls.index(added)
        < first_text(slack)
        < slack.calls.index(slack.calls_to("reactions.remove")[0])
    )
    health = bot.services.health.states()
    assert all(state.ok for state in health.values()), "an optional call refused is not Slack down"


async def test_many_questions_at_once_keep_to_the_status_pace_and_each_gets_a_sign(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Ten questions in one channel at once: the status goes up as often as Slack's per-channel
    pace allows (never a 429), the rest get a reaction (how many of each depends on how fast
    the questions arrive), and every sign goes once answered."""
    asked = [f"1700030100.{n:06d}" for n in range(1, 11)]

    async def every_question_has_a_sign() -> None:
        def signed(ts: str) -> bool:
            return bool(slack.statuses.get((CHANNEL, ts)) or slack.reactions.get((CHANNEL, ts)))

        await slack.wait_for(lambda: all(signed(ts) for ts in asked), within=20)

    model.script(
        *[
            Script(chunks=[f"Answer {n}."], before_chunk={0: every_question_has_a_sign})
            for n in range(10)
        ]
    )
    for ts in asked:
        await bot.event(ask(ts=ts))
    await bot.finished_answers(10)
    await slack.wait_for(
        lambda: not slack.statuses and not any(slack.reactions.values()), within=30
    )
    assert [c for c in slack.calls if c.status == 429] == []
    by_status = {c.payload["thread_ts"] for c in slack.calls_to(STATUS) if c.payload["status"]}
    by_reaction = {c.payload["timestamp"] for c in slack.calls_to("reactions.add")}
    assert by_status | by_reaction == set(asked)
    assert by_status.isdisjoint(by_reaction), "one sign each"
    assert by_status, "the first to open finds the channel's pace unspent"


async def test_a_429_on_the_status_is_obeyed_with_a_reaction_not_retried(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    slack.throttle_next[STATUS] = 1

    async def reacted() -> None:
        await slack.wait_for(lambda: slack.reactions.get((CHANNEL, ROOT)))

    model.script(Script(chunks=["Yes."], before_chunk={0: reacted}))
    await bot.event(ask())
    await bot.finished_answers()
    await slack.wait_for(lambda: slack.calls_to("reactions.remove"))
    assert [c.status for c in statuses(slack)] == [429], "no second try in the Retry-After"


async def test_a_slash_command_answer_is_its_own_sign_of_life(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    model.script(Script(chunks=["Open till 9 pm."]))
    await bot.command("store hours?")
    await bot.finished_answers()
    assert slack.calls_to(STATUS) == [] and slack.calls_to("reactions.add") == []


async def test_a_hostile_tool_argument_cannot_ping_from_the_loading_state(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The model chose the tool's arguments: its status line in the loading state (and in a
    stream's task title) is made inert like every other text."""
    query = "<!here> <@U0BOSS> [TVs](https://evil.example)"

    def tool_line(call: Call) -> bool:
        lines = call.payload.get("loading_messages")
        return bool(lines) and lines != list(texts.LOADING_MESSAGES)

    async def tool_line_shown() -> None:
        await slack.wait_for(lambda: any(tool_line(c) for c in statuses(slack)))

    model.script(
        Script(
            chunks=[], tool_calls=[("search_products", {"query": query})], stop_reason="tool_use"
        ),
        Script(chunks=["Nothing found."], before_chunk={0: tool_line_shown}),
    )
    await bot.event(ask(text="tvs?"))
    await bot.finished_answers()
    await slack.wait_for(lambda: not slack.statuses)
    shown = " ".join(
        line for c in statuses(slack) for line in c.payload.get("loading_messages") or []
    )
    assert "Looking up" in shown
    assert "<!here>" not in shown and "<@U0BOSS>" not in shown and "](" not in shown
