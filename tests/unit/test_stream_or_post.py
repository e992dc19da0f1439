"""Which method a native answer goes by (pure): it streams unless being posted and edited with
`chat.update` would give it more versions over its expected life — so a burst spends both of
Slack's windows, the appends' and `chat.update`'s, instead of leaving one idle."""

from __future__ import annotations

from bot.delivery.pacing.choice import Load, stream_gives_more

APPENDS, UPDATES = 100, 50  # Slack's tiers a minute: chat.appendStream, chat.update


def load(streams: int, posted: int, life: float = 20.0) -> Load:
    return Load(streams=streams, posted=posted, appends=APPENDS, updates=UPDATES, life=life)


def test_a_lone_answer_streams() -> None:
    """Alone, a stream has the appends' minute to itself and its final rides on the stop."""
    assert stream_gives_more(load(streams=1, posted=0))


def test_twenty_long_answers_at_once_do_not_all_stream() -> None:
    """Twenty 20 s answers share the appends (a third of a minute's 100: 1.7 each, with the
    start and stop 3.7 versions); posted, one would have `chat.update`'s 17 calls to itself."""
    assert not stream_gives_more(load(streams=20, posted=0))


def test_a_burst_settles_where_both_windows_give_about_the_same() -> None:
    """Deciding the answers of a burst of twenty one by one, each posted one leaving the
    streams: a quarter to a third are posted, and the last ones decided stream."""
    streams, posted = 20, 0
    choices = []
    for _ in range(20):
        stream = stream_gives_more(load(streams, posted))
        choices.append(stream)
        if not stream:
            streams, posted = streams - 1, posted + 1
    assert 4 <= posted <= 7
    assert all(choices[posted:])


def test_short_answers_stream_whatever_the_load() -> None:
    """An answer expected to end in a second or two gains nothing from a share of either
    window: its start and stop give it two versions, a post one."""
    assert stream_gives_more(load(streams=20, posted=0, life=1.0))


def test_a_window_with_no_calls_is_never_chosen() -> None:
    """With `chat.update` unavailable (no calls a minute) an answer always streams."""
    none = Load(streams=50, posted=0, appends=APPENDS, updates=0, life=25.0)
    assert stream_gives_more(none)
