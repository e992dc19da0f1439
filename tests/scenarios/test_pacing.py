"""Slack's budget spent where people see it: the real bot against the fake Slack's limits."""

from __future__ import annotations

import asyncio

from tests.conftest import BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack


def short_answer(n: int) -> Script:
    return Script(chunks=[f"Answer {n}", ": the LG", " 55 inch", " is in stock."], delay=0.05)


async def test_the_bot_asks_slack_who_it_is_once_however_many_events_arrive(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """With one bot token, `auth.test` is asked once at start; thirty mentions arriving
    together do not each wait on it before their ack."""
    bot = await make_bot()
    model.script(*[short_answer(n) for n in range(30)])
    await asyncio.gather(
        *(
            bot.event(
                payload(
                    "app_mention",
                    text=f"<@{BOT_USER}> question {n}",
                    ts=f"1700004000.{n:06d}",
                    channel=f"C{n:04d}",
                )
            )
            for n in range(30)
        )
    )
    await bot.finished_answers(30)
    assert len(slack.calls_to("auth.test")) == 1


async def test_short_answers_under_a_spent_budget_go_out_as_one_post_each(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Ten answers at once with three `chat.update` a minute: an early post would commit each
    to an edit the budget cannot pay for, so each answer is posted whole, footer and all, and
    nobody waits for a minute to see the end of theirs."""
    bot = await make_bot(updates_per_minute=3, update_burst=3, update_interval=1.0)
    model.script(*[short_answer(n) for n in range(10)])
    for n in range(10):
        await bot.event(
            payload(
                "app_mention",
                text=f"<@{BOT_USER}> question {n}",
                ts=f"1700004100.{n:06d}",
                channel=f"C{n:04d}",
            )
        )
    answers = await bot.finished_answers(10)
    assert len(slack.calls_to("chat.update")) <= 3
    assert not [c for c in slack.calls if c.status == 429]
    whole = [m for m in answers if len(m.versions) == 1]
    assert len(whole) >= 7, "most answers are one post"
    for message in whole:
        assert message.markdown.endswith("is in stock.") and message.context


async def test_one_answer_alone_is_posted_with_its_first_words_and_edited_as_it_streams(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """With one answer in flight nothing changes under Slack's real budget: the first words
    go out with the post, and the message is edited as the text grows (about once a second:
    the minute's calls spread over the answer's expected life), then finished."""
    bot = await make_bot(updates_per_minute=50, update_burst=3, update_interval=1.0)
    model.script(Script(chunks=[f"Point {n}. " for n in range(40)], delay=0.1))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> TVs?", ts="1700004200.000001"))
    [answer] = await bot.finished_answers(1)
    assert answer.versions[0]["text"].startswith("Point 0.")
    in_progress = [v for v in answer.versions[1:-1] if "Point 39." not in v["text"]]
    assert in_progress, "edited while streaming, not only at the end"
    assert answer.markdown.rstrip().endswith("Point 39.")
