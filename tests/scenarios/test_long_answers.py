"""Answers of any length arrive whole, in order, within Slack's limits; 429s lose nothing."""

from __future__ import annotations

from tests.conftest import Bot, BotFactory, payload
from tests.fakes.anthropic_server import FakeAnthropic, Script
from tests.fakes.slack_server import BOT_USER, FakeSlack, markdown_of

ROOT = "1700002000.000100"


def long_answer() -> list[str]:
    """About 34,000 characters: prose, a long code block, a list, in model-sized chunks."""
    prose = "".join(
        f"**Model {n}** — a 55-inch 4K TV at {40_000 + n * 100:,} points, with Dolby Vision.\n\n"
        for n in range(150)
    )
    code = "```text\n" + "".join(f"Row-{n:05d}  {n * 10:,} units\n" for n in range(700)) + "```\n\n"
    listing = "".join(f"- Store {n}: open till 9 pm\n" for n in range(300))
    text = prose + code + listing
    return [text[i : i + 40] for i in range(0, len(text), 40)]


def normalised(text: str) -> str:
    return "\n".join(
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and line != "```text" and line != "```"
    )


async def test_a_30000_character_answer_arrives_whole_across_messages(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """The answer continues in new messages in the thread; the footer is on the last one."""
    chunks = long_answer()
    text = "".join(chunks)
    assert len(text) > 30_000
    model.script(Script(chunks=chunks))
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> list everything", ts=ROOT))
    await bot.finished_answers()
    await bot.services.answerer.wait_idle(10)
    errors = [c for c in slack.calls if c.error]
    assert errors == []
    messages = slack.in_thread(slack.messages[0].channel, ROOT)
    assert len(messages) >= 3
    assert [bool(m.context) for m in messages] == [False] * (len(messages) - 1) + [True]
    shown = "\n".join(m.markdown for m in messages)
    assert normalised(shown) == normalised(text)
    assert all("▍" not in m.markdown for m in messages)


async def test_a_429_is_waited_out_and_the_newest_text_is_sent(
    bot: Bot, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Slack's Retry-After pauses edits; nothing is lost and no older version overwrites a newer."""
    slack.throttle_next["chat.update"] = 1
    chunks = [f"Point {n}. " for n in range(20)]
    model.script(Script(chunks=chunks, delay=0.1))  # 2 s: posted after the cold hold, then edited
    await bot.event(payload("app_mention", text=f"<@{BOT_USER}> points", ts=ROOT))
    [answer] = await bot.finished_answers()
    assert [c.status for c in slack.calls_to("chat.update")].count(429) == 1
    assert answer.markdown == "".join(chunks)
    lengths = [len(markdown_of(v).removesuffix(" ▍")) for v in answer.versions[1:]]
    assert lengths == sorted(lengths)


async def test_many_answers_share_one_budget_without_429s(
    make_bot: BotFactory, slack: FakeSlack, model: FakeAnthropic
) -> None:
    """Six answers at once under a tight chat.update limit all finish whole, with no 429."""
    limit = 12
    slack.per_minute["chat.update"] = limit
    bot = await make_bot(updates_per_minute=limit)
    for n in range(6):
        model.by_question[f"q{n}"] = Script(
            chunks=[f"Answer {n}", " part two", " done."], delay=0.1
        )
    for n in range(6):
        await bot.event(
            payload("app_mention", text=f"<@{BOT_USER}> q{n}", ts=f"1700006000.00010{n}")
        )
    answers = await bot.finished_answers(6)
    assert sorted(a.markdown for a in answers) == [f"Answer {n} part two done." for n in range(6)]
    assert [c for c in slack.calls if c.status == 429] == []
    assert len(slack.calls_to("chat.update")) <= limit
