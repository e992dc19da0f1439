"""What the bot knows about each dependency right now: the database, Redis, Slack.

Each part that talks to a dependency reports here (`failed` on a call that could not get
through, `ok` on one that did); `/readyz` shows the board and the metrics count the failures.
The board itself never logs: `failed` and `ok` say whether the state changed, so the owner of
the dependency logs one line when it goes away and one when it is back, not one per call.

A failure is `fatal` when the bot cannot answer anyone until a person fixes something (Slack
refusing the bot's token); a transient one (Slack 5xx, the database away) is waited out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.accounting.metrics import Metrics


@dataclass(frozen=True)
class State:
    """One dependency: up or down since `since` (Unix time), and why it is down."""

    ok: bool
    since: float
    reason: str = ""
    fatal: bool = False


class Health:
    """The board of dependency states, shared by the whole process."""

    def __init__(
        self, metrics: Metrics | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.metrics = metrics
        self.clock = clock
        self._states: dict[str, State] = {}

    def watch(self, name: str) -> None:
        """Put a dependency on the board, up from now (until a call says otherwise)."""
        if name not in self._states:
            self._set(name, State(ok=True, since=self.clock()))

    def ok(self, name: str) -> bool:
        """A call got through. True when `name` was down until now (it is back)."""
        current = self._states.get(name)
        if current is not None and current.ok:
            return False
        self._set(name, State(ok=True, since=self.clock()))
        return current is not None

    def failed(self, name: str, reason: str, *, fatal: bool = False) -> bool:
        """A call could not get through. True when `name` was up until now (it went away)."""
        if self.metrics is not None:
            self.metrics.dependency_failures.labels(name).inc()
        current = self._states.get(name)
        if current is not None and not current.ok:
            if current.fatal != fatal or current.reason != reason:
                self._set(name, replace(current, reason=reason, fatal=fatal))
            return False
        self._set(name, State(ok=False, since=self.clock(), reason=reason, fatal=fatal))
        return True

    def states(self) -> dict[str, State]:
        return dict(self._states)

    @property
    def can_answer(self) -> bool:
        """False only when some dependency failed fatally: no one can be answered."""
        return not any(state.fatal for state in self._states.values())

    def _set(self, name: str, state: State) -> None:
        self._states[name] = state
        if self.metrics is not None:
            self.metrics.dependency_up.labels(name).set(1 if state.ok else 0)
