"""What this process wrote lately, to answer reads while the database is away.

Kept all the time (not only during an outage), because a limit asks about the last hour or day:
the questions each person asked, the tokens their answers used, the threads the bot answered
in and the questions a Retry button may ask again. Each is bounded and forgets what is older
than a day, so it costs a few megabytes at most. It knows only this process's share; with
several replicas each counts its own, which is what "degraded" means here.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import TypeVar

from bot.question import Question
from bot.store import writes
from bot.store.base import Admission
from bot.store.writes import Write

DAY = 24 * 60 * 60
MOST_EVENTS = 200_000  # questions and answers remembered (a day of a busy workspace)
MOST_THREADS = 20_000
MOST_QUESTIONS = 2_000  # for Retry, newest kept

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._asked: deque[tuple[float, str, str]] = deque(maxlen=MOST_EVENTS)
        self._used: deque[tuple[float, str, str, int]] = deque(maxlen=MOST_EVENTS)
        self._threads: OrderedDict[str, None] = OrderedDict()
        self._questions: OrderedDict[str, Question] = OrderedDict()
        # question id -> (asked at, team, user, tokens reserved for its answer until settled)
        self._reserved: OrderedDict[str, tuple[float, str, str, int]] = OrderedDict()

    def note(self, write: Write) -> None:
        """Remember what `write` tells about limits, threads and questions."""
        if write.op == "save_question":
            question = writes.question_of(write.args)
            self._asked.append((write.at, question.team, question.user))
            _bounded_put(self._questions, write.args["question_id"], question, MOST_QUESTIONS)
            if write.args.get("reserved"):
                held = (write.at, question.team, question.user, int(write.args["reserved"]))
                _bounded_put(self._reserved, write.args["question_id"], held, MOST_QUESTIONS)
        elif write.op == "settle":
            self._reserved.pop(write.args["question_id"], None)
        elif write.op == "record":
            row = writes.row_of(write.args)
            self._used.append((row.at, row.team, row.user, row.tokens))
        elif write.op == "add_turns":
            _bounded_put(self._threads, write.args["thread_key"], None, MOST_THREADS)
        self._forget_old()

    def questions_since(self, team: str, user: str | None, since: float) -> int:
        """Questions asked since `since` by `user` of `team` (None: anyone of the team)."""
        return sum(1 for at, t, u in self._asked if at >= since and _of(t, u, team, user))

    def tokens_since(self, team: str, user: str | None, since: float) -> int:
        return sum(n for at, t, u, n in self._used if at >= since and _of(t, u, team, user))

    def reserved_since(self, team: str, user: str | None, since: float) -> int:
        """Tokens held by this process's answers in flight, until settled."""
        held = self._reserved.values()
        return sum(n for at, t, u, n in held if at >= since and _of(t, u, team, user))

    def held(self, team: str, user: str | None, limits: Admission) -> int:
        """The day's tokens used and held by `user` of `team` (None: the whole team)."""
        used = self.tokens_since(team, user, limits.day_since)
        return used + self.reserved_since(team, user, limits.reserved_since)

    def verdict(self, team: str, user: str, limits: Admission) -> str | None:
        """`Store.admit`'s answer from what this process knows (the database being away)."""
        if self.questions_since(team, user, limits.since) >= limits.most:
            return "questions"
        ceiling = limits.team_tokens_most
        if limits.team_most is not None and (
            self.questions_since(team, None, limits.since) >= limits.team_most
            or (ceiling is not None and self.held(team, None, limits) >= ceiling)
        ):
            return "team"
        if self.held(team, user, limits) >= limits.tokens_most:
            return "tokens"
        return None

    def top_up(self, question_id: str, question: Question, amount: int, limits: Admission) -> bool:
        """`Store.top_up` from what this process knows: the tokens held here if covered."""
        kept = self._reserved.get(question_id)
        team, user = question.team, question.user
        if kept is None or self.held(team, user, limits) + amount > limits.tokens_most:
            return False
        ceiling = limits.team_tokens_most
        if ceiling is not None and self.held(team, None, limits) + amount > ceiling:
            return False
        self._reserved[question_id] = (*kept[:3], kept[3] + amount)
        return True

    def has_thread(self, thread_key: str) -> bool:
        return thread_key in self._threads

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    def _forget_old(self) -> None:
        cutoff = self.clock() - DAY
        for events in (self._asked, self._used):
            while events and events[0][0] < cutoff:
                events.popleft()


def _of(team: str, user: str, wanted_team: str, wanted_user: str | None) -> bool:
    return team == wanted_team and (wanted_user is None or user == wanted_user)


def _bounded_put(items: OrderedDict[K, V], key: K, value: V, most: int) -> None:
    items[key] = value
    items.move_to_end(key)
    while len(items) > most:
        items.popitem(last=False)
