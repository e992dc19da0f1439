"""Short Slack blips are retried inside the SDK; longer outages are waited out by the caller.

`web_client` builds the bot's `AsyncWebClient` with `slack_sdk`'s own async retry handlers
(exponential backoff with jitter), narrowed to what is safe to send twice:

* a connection that could not be opened (refused, no route) never reached Slack: any call is
  sent again;
* a connection dropped mid-call, or a 500/502/503/504, may have reached Slack. Only calls that
  can land twice without harm are sent again (`chat.update` replaces the text, reads read).
  A post (`chat.postMessage`, `chat.startStream`, an append, an ephemeral) is not repeated
  here: the caller gets `SlackUnavailable(may_have_landed=True)` and looks for the post
  (`SlackApi.find_reply`) before posting again.

429s are not retried here: the scheduler owns Slack's budget and waits `Retry-After` itself.
Timeouts are not retried here either: a call that hung for `TIMEOUT` seconds is no blip, and
the caller sends its newest state when Slack answers again (`wait_before`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from aiohttp import (
    ClientConnectorError,
    ClientOSError,
    ClientSession,
    ClientTimeout,
    ServerDisconnectedError,
)
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackUnavailable

# Seconds for one Slack call, connection included. Slack answers in well under a second; one
# that hangs this long is an incident, and the answer's newest text is better sent afresh.
TIMEOUT = 10
RETRIES = 2  # per call, per kind of failure
BACKOFF = 0.5  # seconds before the first retry, doubled for the next (plus jitter)

# Calls that do no harm when they land twice.
REPEATABLE = frozenset(
    {
        "auth.test",
        "chat.update",
        "chat.stopStream",
        "conversations.replies",
        "conversations.history",
        "views.publish",
        "assistant.threads.setStatus",
        "assistant.threads.setTitle",
        "assistant.threads.setSuggestedPrompts",
        "apps.connections.open",
    }
)
SERVER_ERRORS = frozenset({500, 502, 503, 504})

# Waiting out a longer outage (the caller's side): grows to this cap, with jitter.
WAIT_CAP = 30.0


def method_of(request: HttpRequest) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage`."""
    return request.url.rstrip("/").rsplit("/", 1)[-1]


class ProportionalJitter(Jitter):
    """Up to half the interval again, at random: replicas hit by the same blip spread out,
    and a short backoff stays short (the SDK's own jitter adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 2)


def backoff(factor: float) -> BackoffRetryIntervalCalculator:
    """`factor`, then twice that, ... seconds between retries, each with jitter."""
    return BackoffRetryIntervalCalculator(backoff_factor=factor, jitter=ProportionalJitter())


class ConnectionRetry(AsyncConnectionErrorRetryHandler):
    """The SDK's connection-error handler, repeating a possibly delivered call only when it
    is repeatable."""

    def __init__(self, factor: float = BACKOFF) -> None:
        super().__init__(
            max_retry_count=RETRIES,
            interval_calculator=backoff(factor),
            error_types=[ServerDisconnectedError, ClientOSError],
        )

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if isinstance(error, ClientConnectorError):  # never reached Slack
            return True
        if method_of(request) not in REPEATABLE:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class ServerErrorRetry(AsyncServerErrorRetryHandler):
    """The SDK's server-error handler for all of Slack's 5xx, on repeatable calls only."""

    statuses: ClassVar[frozenset[int]] = SERVER_ERRORS

    def __init__(self, factor: float = BACKOFF) -> None:
        super().__init__(max_retry_count=RETRIES, interval_calculator=backoff(factor))

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code in self.statuses
            and method_of(request) in REPEATABLE
        )


def retry_handlers(factor: float = BACKOFF) -> list[AsyncRetryHandler]:
    return [ConnectionRetry(factor), ServerErrorRetry(factor)]


def web_client(
    token: str | None,
    base_url: str,
    *,
    timeout: int = TIMEOUT,
    backoff_factor: float = BACKOFF,
    session: ClientSession | None = None,
) -> AsyncWebClient:
    """The bot's Slack client: its base URL, a per-call timeout and the retries above.

    Without `session` the SDK opens a new HTTP session, and a new connection, for every call;
    `http_session` makes one that keeps its connections to Slack open between calls (a
    connection Slack closed meanwhile fails as a dropped one: see the retries above).
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers(backoff_factor),
        session=session,
    )


def http_session(timeout: int = TIMEOUT) -> ClientSession:
    """The HTTP session the bot's Slack calls share (its per-call timeout included: the SDK
    sets one only on the sessions it opens itself). Made inside the running event loop."""
    return ClientSession(timeout=ClientTimeout(total=timeout))


def wait_before(
    attempt: int, retry_after: float, *, jitter: float | None = None, cap: float = WAIT_CAP
) -> float:
    """Seconds to wait before the `attempt`-th try (1 = the first retry) of a call that failed
    with `SlackUnavailable`: Slack's `retry_after` doubled per attempt, capped at `cap`, plus
    up to a second of jitter (at most `cap` again) so replicas do not come back all at once."""
    extra = random.random() * min(1.0, cap) if jitter is None else jitter
    return float(min(retry_after * 2 ** max(attempt - 1, 0), cap) + extra)


@dataclass(frozen=True)
class Patience:
    """How an answer waits for Slack through an outage: tries spaced by `wait_before` up to
    `cap` seconds apart, for at most `limit` seconds without getting through; then it gives
    up and the answer ends as an error. (`SHOPMAX_SLACK_RETRY_MAX`, `SHOPMAX_SLACK_OUTAGE_WAIT`.)
    """

    cap: float = WAIT_CAP
    limit: float = 300.0


@dataclass
class Waiting:
    """One caller waiting Slack out (an answer's message, a post): how long it has failed, and
    how long to wait next. Reset when a call gets through."""

    patience: Patience = field(default_factory=Patience)
    clock: Callable[[], float] = time.monotonic
    since: float | None = None  # when the calls began to fail
    attempts: int = 0

    def pause(self, error: SlackUnavailable) -> float:
        """Seconds to wait before trying again after `error`; raises `error` once Slack has
        been away longer than the patience allows."""
        now = self.clock()
        if self.since is None:
            self.since = now
        left = self.since + self.patience.limit - now
        if left <= 0:
            raise error
        self.attempts += 1
        return min(wait_before(self.attempts, error.retry_after, cap=self.patience.cap), left)

    def reset(self) -> None:
        self.since, self.attempts = None, 0
