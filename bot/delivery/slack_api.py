"""The few Slack Web API calls the bot makes, with Slack's errors mapped to ours.

This is where text becomes Slack text, so this is where it is made safe: every text, block,
streamed Markdown and view passes through `inert.neutralise` on its way out, whoever built it,
so nothing the model or a person wrote (an answer, a tool's arguments in a status line, a quoted
question) can ping anyone or hide a link's target. Every post turns unfurls off and never passes
`link_names`. A 429 becomes `RateLimited` carrying Slack's `Retry-After`, for the scheduler to
wait out; nothing here sleeps.

Failures are told apart (the SDK has already retried short blips, see `slack_retry`):
`SlackUnavailable` for what passes (5xx, timeouts, connections refused or dropped), to be
waited out; `SlackRefused` when Slack refuses the bot itself; `CannotPost` and `MessageGone`
for one conversation or message. A post carries its question's id in message metadata, so
`find_reply` can tell whether a post whose answer was lost reached the thread after all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.accounting.health import Health
from bot.accounting.metrics import Metrics
from bot.delivery import slack_retry
from bot.errors import (
    CannotPost,
    MessageGone,
    RateLimited,
    SlackError,
    SlackRefused,
    SlackUnavailable,
)
from bot.wording.inert import neutralise, neutralise_blocks
from bot.wording.markdown import Rendered

log = logging.getLogger(__name__)

CANNOT_POST = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}
)
GONE = frozenset({"message_not_found", "cant_update_message"})
THREAD_NOT_FOUND = "thread_not_found"
# Slack refuses the bot's token or app: no conversation will work until a person fixes it.
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "team_access_not_granted",
        "ekm_access_denied",
        "org_login_required",
        "team_is_restricted",
    }
)
# Slack's own words for "try again later", sometimes sent with HTTP 200.
PASSING = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)
RETRY_AFTER = 1.0  # seconds before a first retry when Slack names none
ANSWER_EVENT = "shopmax_answer"  # metadata event type on every answer message
SLACK = "slack"  # this dependency's name on the health board


class SlackApi:
    """Thin wrapper over `AsyncWebClient`: post, update, ephemeral, `response_url`."""

    def __init__(
        self,
        client: AsyncWebClient,
        metrics: Metrics | None = None,
        health: Health | None = None,
    ) -> None:
        self.client = client
        self.metrics = metrics
        self.health = health
        if health is not None:
            health.watch(SLACK)

    async def post(
        self,
        channel: str,
        rendered: Rendered,
        *,
        thread_ts: str | None = None,
        question_id: str | None = None,
        piece: int = 0,
    ) -> str:
        """Post a message (in `thread_ts` when given) and return its ts.

        With `question_id`, the message carries it (and `piece`, its place in a long answer)
        in metadata that `find_reply` looks for.
        """
        metadata = None
        if question_id is not None:
            payload = {"question_id": question_id, "piece": piece}
            metadata = {"event_type": ANSWER_EVENT, "event_payload": payload}
        response = await self._call(
            "chat_postMessage",
            channel=channel,
            thread_ts=thread_ts,
            text=neutralise(rendered.text),
            blocks=neutralise_blocks(rendered.blocks),
            metadata=metadata,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    async def find_reply(
        self,
        channel: str,
        question_id: str,
        *,
        thread_ts: str | None,
        piece: int = 0,
        oldest: str | None = None,
    ) -> str | None:
        """The ts of our message `piece` of the answer to `question_id`, if Slack has it.

        Call it before posting again after `SlackUnavailable(may_have_landed=True)`. In a
        thread it reads the thread; a top-level answer (a slash command's, `thread_ts` None)
        is looked for in the channel's messages since `oldest`.
        """
        # A thread's replies, or a top-level answer among the channel's messages.
        method, where = (
            ("conversations_replies", {"ts": thread_ts})
            if thread_ts is not None
            else ("conversations_history", {"oldest": oldest})
        )
        cursor = None
        while True:
            try:
                response = await self._call(
                    method,
                    channel=channel,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                    **where,
                )
            except SlackError as exc:
                if exc.code == THREAD_NOT_FOUND:  # no thread (yet): nothing of ours in it
                    return None
                raise
            for message in response.get("messages") or []:
                if _answer_mark(message) == (question_id, piece):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    async def update(self, channel: str, ts: str, rendered: Rendered) -> None:
        await self._call(
            "chat_update",
            channel=channel,
            ts=ts,
            text=neutralise(rendered.text),
            blocks=neutralise_blocks(rendered.blocks),
        )

    async def start_stream(
        self,
        channel: str,
        thread_ts: str,
        *,
        markdown_text: str,
        recipient: tuple[str, str] | None,
        tasks: list[Task] | None = None,
    ) -> str:
        """Start a native streaming reply in `thread_ts` and return its ts.

        Outside DMs Slack requires the recipient (user, team) the stream is for. With `tasks`
        the text and the task updates go as `chunks`.
        """
        user, team = recipient if recipient else (None, None)
        response = await self._call(
            "chat_startStream",
            channel=channel,
            thread_ts=thread_ts,
            markdown_text=None if tasks else neutralise(markdown_text) or None,
            chunks=_chunks(tasks, markdown_text) if tasks else None,
            recipient_user_id=user,
            recipient_team_id=team,
        )
        return str(response["ts"])

    async def append_stream(
        self, channel: str, ts: str, markdown_text: str, *, tasks: list[Task] | None = None
    ) -> None:
        """Append text, or (with `tasks`) task updates and then the text, as `chunks`."""
        if not tasks:
            await self._call(
                "chat_appendStream", channel=channel, ts=ts, markdown_text=neutralise(markdown_text)
            )
            return
        await self._call(
            "chat_appendStream", channel=channel, ts=ts, chunks=_chunks(tasks, markdown_text)
        )

    async def stop_stream(
        self,
        channel: str,
        ts: str,
        *,
        markdown_text: str = "",
        blocks: list[Any] | None = None,
        tasks: list[Task] | None = None,
    ) -> None:
        """Stop a stream: its last text, task updates and the blocks under it (footer,
        sources, buttons)."""
        await self._call(
            "chat_stopStream",
            channel=channel,
            ts=ts,
            markdown_text=None if tasks else neutralise(markdown_text) or None,
            chunks=_chunks(tasks, markdown_text) if tasks else None,
            blocks=neutralise_blocks(blocks) or None,
        )

    async def set_thread_status(
        self, channel: str, thread_ts: str, status: str, loading: tuple[str, ...] = ()
    ) -> None:
        """Slack's loading state in a thread (`status` "" clears it). It needs only
        `chat:write` and works in channel threads as well as assistant threads; a refusal
        here is about this optional call, not the bot, so it does not mark Slack as refusing
        the bot."""
        await self._call(
            "assistant_threads_setStatus",
            optional=True,
            channel_id=channel,
            thread_ts=thread_ts,
            status=neutralise(status),
            loading_messages=[neutralise(line) for line in loading] or None,
        )

    async def add_reaction(self, channel: str, ts: str, name: str) -> None:
        await self._call("reactions_add", optional=True, channel=channel, timestamp=ts, name=name)

    async def remove_reaction(self, channel: str, ts: str, name: str) -> None:
        await self._call(
            "reactions_remove", optional=True, channel=channel, timestamp=ts, name=name
        )

    async def suggest_prompts(
        self,
        channel: str,
        prompts: list[tuple[str, str]],
        *,
        title: str,
        thread_ts: str | None = None,
    ) -> None:
        """Suggested prompts: in an assistant thread (`thread_ts`), or at the top of the
        Messages tab (Slack's agent view: no thread)."""
        await self._call(
            "assistant_threads_setSuggestedPrompts",
            optional=True,
            channel_id=channel,
            thread_ts=thread_ts,
            title=neutralise(title),
            prompts=[{"title": neutralise(t), "message": neutralise(m)} for t, m in prompts],
        )

    async def thread(self, channel: str, thread_ts: str, limit: int = 50) -> list[dict[str, Any]]:
        """The messages of a thread, oldest first (its parent included), with their metadata:
        our answers carry theirs (see `bot.answering.thread_turns`)."""
        response = await self._call(
            "conversations_replies",
            channel=channel,
            ts=thread_ts,
            limit=limit,
            include_all_metadata=True,
        )
        return list(response.get("messages") or [])

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        await self._call("views_publish", user_id=user, view=neutralise_blocks(view))

    async def user_info(self, user: str) -> dict[str, Any]:
        """`users.info` for one user (needs the `users:read` scope): who Slack says they are,
        workspace admin or owner included."""
        response = await self._call("users_info", user=user)
        found = response.get("user")
        return found if isinstance(found, dict) else {}

    async def post_ephemeral(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> None:
        await self._call(
            "chat_postEphemeral",
            channel=channel,
            user=user,
            text=neutralise(text),
            thread_ts=thread_ts,
        )

    async def direct_message(self, user: str, text: str) -> str:
        """Post `text` to `user` in their direct messages with the bot and return its ts.

        Slack takes a user's id as the channel of `chat.postMessage` and delivers the message
        in the app's DM with them: no `conversations.open` (and no `im:write` scope) needed.
        """
        return await self.post(user, Rendered(text, []))

    async def respond(self, response_url: str, rendered: Rendered) -> None:
        """Answer through a slash command's `response_url`, visible to the asker only.

        It works where the bot is not a member (private channels, DMs between people), but only
        five times in thirty minutes, so it is never used for progressive edits.
        """
        webhook = AsyncWebhookClient(
            response_url, timeout=slack_retry.TIMEOUT, retry_handlers=slack_retry.retry_handlers()
        )
        try:
            response = await webhook.send(
                text=neutralise(rendered.text),
                blocks=neutralise_blocks(rendered.blocks),
                response_type="ephemeral",
                replace_original=False,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _unreachable("response_url", exc) from exc
        if response.status_code == 429:
            raise RateLimited(_retry_after(response.headers))
        if response.status_code >= 500:
            raise SlackUnavailable(
                f"response_url answered HTTP {response.status_code}",
                code=f"http_{response.status_code}",
                retry_after=_retry_after(response.headers, RETRY_AFTER),
                may_have_landed=True,
            )
        if response.status_code != 200:
            raise SlackError(
                f"response_url answered HTTP {response.status_code}: {response.body}",
                code=f"http_{response.status_code}",
            )

    async def _call(self, method: str, *, optional: bool = False, **kwargs: Any) -> Any:
        """Call `method` (`chat_postMessage`); an `optional` call Slack refuses (a missing
        scope, a feature not enabled) says nothing about the bot's token."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        name = method.replace("_", ".")  # assistant_threads_setStatus: Slack's own name
        if self.metrics is not None:
            self.metrics.slack_calls.labels(name).inc()
        try:
            response = await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            error = _mapped(name, exc)
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = _unreachable(name, exc)
        else:
            self._reached()
            return response
        self._failed(name, error, optional=optional)
        raise error from error.__cause__

    def _reached(self) -> None:
        if self.health is not None and self.health.ok(SLACK):
            log.warning("Slack answers again")

    def _failed(self, name: str, error: Exception, *, optional: bool = False) -> None:
        if isinstance(error, SlackUnavailable) or (
            isinstance(error, SlackRefused) and not optional
        ):
            fatal = isinstance(error, SlackRefused)
            if self.health is not None and self.health.failed(SLACK, error.code, fatal=fatal):
                if fatal:
                    log.error("Slack refuses the bot (%s): fix its token or installation", error)
                else:
                    log.warning("Slack is unreachable (%s): its calls wait for it", error)
        else:
            self._reached()  # Slack answered, if only to say no
        if self.metrics is None:
            return
        if isinstance(error, RateLimited):
            self.metrics.slack_throttled.labels(name).inc()
        else:
            self.metrics.errors.labels(f"slack_{getattr(error, 'code', 'error')}").inc()


@dataclass(frozen=True)
class Task:
    """One step shown in a native stream's timeline: a lookup and how it is going."""

    id: str
    title: str
    status: str  # "in_progress", "complete" or "error"


def _chunks(tasks: list[Task], markdown_text: str) -> list[dict[str, Any]]:
    """`chat.appendStream` / `chat.stopStream` chunks: the task updates, then the text."""
    chunks: list[dict[str, Any]] = [
        {"type": "task_update", "id": t.id, "title": neutralise(t.title), "status": t.status}
        for t in tasks
    ]
    if markdown_text:
        chunks.append({"type": "markdown_text", "text": neutralise(markdown_text)})
    return chunks


def _answer_mark(message: dict[str, Any]) -> tuple[str, int] | None:
    """(question id, piece) from one of our answer messages' metadata; None for others."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != ANSWER_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    try:
        return str(payload["question_id"]), int(payload.get("piece", 0))
    except (KeyError, TypeError, ValueError):
        return None


def _mapped(name: str, exc: SlackApiError) -> Exception:
    """Slack's answer (after the SDK's retries) as one of our errors, caused by `exc`."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"http_{response.status_code}")
    message = f"Slack {name} failed: {code}"
    error: Exception
    if response.status_code == 429 or code == "ratelimited":
        error = RateLimited(_retry_after(response.headers))
    elif response.status_code >= 500 or code in PASSING:
        retry_after = _retry_after(response.headers, RETRY_AFTER)
        error = SlackUnavailable(message, code=code, retry_after=retry_after, may_have_landed=True)
    elif code in REFUSED:
        error = SlackRefused(message, code=code)
    elif code in CANNOT_POST:
        error = CannotPost(message, code=code)
    elif code in GONE:
        error = MessageGone(message, code=code)
    else:
        error = SlackError(message, code=code)
    error.__cause__ = exc
    return error


def _unreachable(name: str, exc: BaseException) -> SlackUnavailable:
    """No answer from Slack. A connection never opened cannot have delivered the call; a
    dropped one or a timeout may have."""
    kind = type(exc).__name__
    landed = not isinstance(exc, aiohttp.ClientConnectorError)
    error = SlackUnavailable(
        f"Slack {name} failed: no answer ({kind}: {exc})",
        code="unreachable",
        retry_after=RETRY_AFTER,
        may_have_landed=landed,
    )
    error.__cause__ = exc
    return error


def _retry_after(headers: Any, default: float = 1.0) -> float:
    """Seconds from a `Retry-After` header (`default` when absent); header maps differ by
    client."""
    value = headers.get("Retry-After") or headers.get("retry-after") or str(default)
    if isinstance(value, list):
        value = value[0]
    try:
        return max(float(value), 0.0)
    except ValueError:
        return default
