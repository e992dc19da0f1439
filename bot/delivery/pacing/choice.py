"""Which method a native answer goes by: streamed, or posted and edited with `chat.update`.

Pure: the counts come from the workspace's two schedulers (`Schedulers.take_stream_start`).

**The rule, in two sentences.** A new answer streams unless being posted would give it more
versions over its expected life: streamed it gets its start, its stop and an equal share of a
minute's `chat.appendStream` calls per minute of life, posted its post and an equal share of
`chat.update`'s (its final among them). The answers counted are those each window already
serves in this process, the new one among the streams (it waits there).

Why this process's alone: every replica splits its own answers the same way, so the
workspace's answers are split about as one process would split them all (the windows' shares
scale alike). Counting the other replicas' answers too meant reading their reports of a moment
ago: in a burst each replica saw the others' answers waiting to stream but not the ones they
were posting at that instant, and posted as many as a lone bot would (2026-12-08, workload 6
cold, three replicas: 8 to 13 of 20 answers streamed from run to run, lag 1.24-1.81x).

Why: Slack gives a workspace two windows, 100 appends and 50 updates a minute. Streaming
every answer leaves `chat.update`'s idle while twenty answers share the appends (2026-12-07,
workload 1: 1.9 s of mean lag, against a least of 1.05 s for schedules using both windows,
`bench/native_bound.py`). Equal shares split a burst about as the windows' sizes do, counting
the free start and stop on the stream's side: of twenty 20 s answers at once, five are posted
(by the rule's count each then expects about 4.3 versions and a stream 4.2, where all
streaming gave 3.7; measured, the appends' window also refills within the answers' lives, and
workload 1's mean lag fell from 1.9 s to 1.3-1.45 s). Past Slack's 20 stream starts a minute
answers are posted anyway (`take_stream_start`).
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60.0


@dataclass(frozen=True)
class Load:
    """What the workspace's two windows serve now, and how long the new answer should run."""

    streams: int  # answers streaming or waiting to, the new one included
    posted: int  # answers edited with `chat.update`, not counting the new one
    appends: int  # `chat.appendStream` calls a minute
    updates: int  # `chat.update` calls a minute
    life: float  # seconds the new answer is expected to stream


def stream_gives_more(load: Load) -> bool:
    """Whether streaming gives the new answer at least as many versions as posting."""
    minutes = load.life / MINUTE
    streamed = 2 + load.appends * minutes / max(load.streams, 1)
    posted = 1 + load.updates * minutes / (load.posted + 1)
    return streamed >= posted
