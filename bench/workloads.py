"""The four workloads of issue 14: who asks what, when, in which channel, and how the model
answers (pure: nothing here starts anything).

1. **burst of long answers**: 20 questions at once, answers of 60-100% of 25 s at 80 tokens a
   second, in 20 channels, under 50 `chat.update` a minute;
2. **burst of short answers**: 100 people in 20 channels ask within one second, answers of
   0.6-1 s (the first token after 0.3 s), under 50 `chat.update` a minute and Slack's
   `chat.postMessage` limit of about one a second per channel with bursts of 5;
3. **steady arrivals**: a question every 2 s for 3 minutes, answers of 1 to 25 s in turn;
4. workload 1 on **3 replicas** sharing the budget through Redis (and the store in PostgreSQL),
   each mention also delivered as Slack's retry and as its `message` twin to other replicas.

The workloads of issue 26, what people see at the model's pace of 10 tokens a second:

5. **20 answers of ~25 s at once** in 20 channels;
6. workload 5 on **3 replicas** sharing the budget in Redis;
7. **one ~25 s answer every 2 s for 2 minutes**;
8. **20 equal-length answers at once in one channel** (its post limit binds: 5 at once, then
   one a second);
9. **20 answers at once spread over five channels**, four each, within the post limit.

Every workload runs with the `chat.postMessage` limit on. The model writes four characters a
token, one token a chunk, as with Claude's tokenizers on English text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fakes.anthropic_server import Script

WORDS = "ShopMax stocks LG Samsung Sony Voltas Whirlpool Godrej IFB Haier Bajaj Philips".split()
POSTS_PER_CHANNEL = (5.0, 1.0)  # burst, per second: Slack's "about one a second"
STEADY_SECONDS = (2, 25, 8, 15, 4, 20, 1, 12)  # workload 3's answer lengths, in turn


@dataclass(frozen=True)
class Ask:
    """One question: asked `at` seconds after the workload starts."""

    n: int
    at: float
    channel: str
    user: str
    script: Script

    @property
    def question(self) -> str:
        return f"Question #{self.n} about ShopMax TVs"


@dataclass(frozen=True)
class Workload:
    number: int
    title: str
    asks: list[Ask]
    per_minute: int = 50
    replicas: int = 1
    shared: bool = False  # PostgreSQL and Redis shared by the replicas
    duplicates: bool = False  # each mention again as a retry and as its message twin
    posts_per_channel: tuple[float, float] = POSTS_PER_CHANNEL
    tokens_per_second: float = 80.0
    extras: bool = False  # print median/last complete, first words and ack figures
    notes: list[str] = field(default_factory=list)


def script(n: int, seconds: float, *, tokens_per_second: float, first_token: float) -> Script:
    """An answer streaming for about `seconds` after its first token."""
    tokens = max(int(tokens_per_second * seconds), 1)
    words = [WORDS[(n + i) % len(WORDS)] for i in range(tokens)]
    text = " ".join(w + (".\n\n" if i % 60 == 59 else "") for i, w in enumerate(words))
    chunks = [text[i : i + 4] for i in range(0, 4 * tokens, 4)]
    return Script(
        chunks=chunks,
        tokens_per_second=tokens_per_second,
        first_token_delay=first_token,
        output_tokens=tokens,
    )


def share(n: int, count: int) -> float:
    """60-100% of the longest, spread evenly over the answers and shuffled."""
    return 0.6 + 0.4 * ((n * 7) % count) / max(count - 1, 1)


def long_burst(answers: int = 20, seconds: float = 25.0, per_minute: int = 50) -> Workload:
    asks = [
        Ask(
            n,
            0.0,
            f"C{n:04d}",
            f"U{n:04d}",
            script(n, seconds * share(n, answers), tokens_per_second=80.0, first_token=0.4),
        )
        for n in range(answers)
    ]
    title = f"{answers} answers of {0.6 * seconds:g}-{seconds:g} s at once"
    return Workload(1, title, asks, per_minute=per_minute)


def short_burst(answers: int = 100, channels: int = 20, within: float = 1.0) -> Workload:
    asks = [
        Ask(
            n,
            within * n / answers,
            f"C{n % channels:04d}",
            f"U{n:04d}",
            script(n, share(n, answers), tokens_per_second=80.0, first_token=0.3),
        )
        for n in range(answers)
    ]
    title = f"{answers} answers of 0.6-1 s from {answers} people in {channels} channels"
    return Workload(2, title, asks, extras=True)


def steady(every: float = 2.0, minutes: float = 3.0, channels: int = 20) -> Workload:
    count = int(minutes * 60 / every)
    asks = [
        Ask(
            n,
            n * every,
            f"C{n % channels:04d}",
            f"U{n:04d}",
            script(
                n,
                STEADY_SECONDS[n % len(STEADY_SECONDS)],
                tokens_per_second=80.0,
                first_token=0.4,
            ),
        )
        for n in range(count)
    ]
    title = f"a question every {every:g} s for {minutes:g} min, answers of 1-25 s"
    return Workload(3, title, asks)


def on_replicas(replicas: int = 3) -> Workload:
    first = long_burst()
    title = f"workload 1 on {replicas} replicas sharing the budget in Redis"
    return Workload(4, title, first.asks, replicas=replicas, shared=True, duplicates=True)


SLOW = 10.0  # tokens a second: the pace of issue 26's workloads
SLOW_FIRST_TOKEN = 0.4


def slow_burst(
    number: int = 5,
    answers: int = 20,
    seconds: float = 25.0,
    channels: int = 20,
    spread: bool = True,
) -> Workload:
    """`answers` of about `seconds` (90-100% of it, or all equal) asked at once."""
    asks = [
        Ask(
            n,
            0.0,
            f"C{n % channels:04d}",
            f"U{n:04d}",
            script(
                n,
                seconds * (0.9 + 0.1 * ((n * 7) % answers) / max(answers - 1, 1) if spread else 1),
                tokens_per_second=SLOW,
                first_token=SLOW_FIRST_TOKEN,
            ),
        )
        for n in range(answers)
    ]
    where = "one channel" if channels == 1 else f"{channels} channels"
    size = f"~{seconds:g}" if spread else f"{seconds:g}"
    title = f"{answers} answers of {size} s at once in {where}, {SLOW:g} tokens/s"
    return Workload(number, title, asks, tokens_per_second=SLOW)


def slow_on_replicas(replicas: int = 3) -> Workload:
    title = f"workload 5 on {replicas} replicas sharing the budget in Redis"
    return Workload(
        6, title, slow_burst().asks, replicas=replicas, shared=True, tokens_per_second=SLOW
    )


def slow_steady(every: float = 2.0, minutes: float = 2.0, seconds: float = 25.0) -> Workload:
    count = int(minutes * 60 / every)
    asks = [
        Ask(
            n,
            n * every,
            f"C{n % 20:04d}",
            f"U{n:04d}",
            script(n, seconds, tokens_per_second=SLOW, first_token=SLOW_FIRST_TOKEN),
        )
        for n in range(count)
    ]
    title = f"one {seconds:g} s answer every {every:g} s for {minutes:g} min, {SLOW:g} tokens/s"
    return Workload(7, title, asks, tokens_per_second=SLOW)


def all_workloads(quick: bool = False) -> list[Workload]:
    """Every workload; `quick` shortens the steady ones (for iterating, not for the figures)."""
    return [
        long_burst(),
        short_burst(),
        steady(minutes=1.0 if quick else 3.0),
        on_replicas(),
        slow_burst(),
        slow_on_replicas(),
        slow_steady(minutes=1.0 if quick else 2.0),
        slow_burst(8, channels=1, spread=False),
        slow_burst(9, channels=5),
    ]
