"""The few Slack Web API calls the bot makes, with Slack's errors mapped to ours.

This is where text becomes Slack text, so this is where it is made safe: every text, block,
streamed Markdown and view passes through `inert.neutralise` on its way out, whoever built it,
so nothing the model or a person wrote (an answer, a tool's arguments in a status line, a quoted
question) can ping anyone or hide a link's target. Every post turns unfurls off and never passes
`link_names`. A 429 becomes `RateLimited` carrying Slack's `Retry-After`, for the scheduler to
wait out; nothing here sleeps.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.accounting.metrics import Metrics
from bot.errors import CannotPost, MessageGone, RateLimited, SlackError
from bot.wording.inert import neutralise, neutralise_blocks
from bot.wording.markdown import Rendered

CANNOT_POST = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}
)
GONE = frozenset({"message_not_found", "cant_update_message"})


class SlackApi:
    """Thin wrapper over `AsyncWebClient`: post, update, ephemeral, `response_url`."""

    def __init__(self, client: AsyncWebClient, metrics: Metrics | None = None) -> None:
        self.client = client
        self.metrics = metrics

    async def post(self, channel: str, rendered: Rendered, *, thread_ts: str | None = None) -> str:
        """Post a message (in `thread_ts` when given) and return its ts."""
        response = await self._call(
            "chat_postMessage",
            channel=channel,
            thread_ts=thread_ts,
            text=neutralise(rendered.text),
            blocks=neutralise_blocks(rendered.blocks),
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

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
    ) -> str:
        """Start a native streaming reply in `thread_ts` and return its ts.

        Outside DMs Slack requires the recipient (user, team) the stream is for.
        """
        user, team = recipient if recipient else (None, None)
        response = await self._call(
            "chat_startStream",
            channel=channel,
            thread_ts=thread_ts,
            markdown_text=neutralise(markdown_text) or None,
            recipient_user_id=user,
            recipient_team_id=team,
        )
        return str(response["ts"])

    async def append_stream(self, channel: str, ts: str, markdown_text: str) -> None:
        await self._call(
            "chat_appendStream", channel=channel, ts=ts, markdown_text=neutralise(markdown_text)
        )

    async def stop_stream(
        self, channel: str, ts: str, *, markdown_text: str = "", blocks: list[Any] | None = None
    ) -> None:
        await self._call(
            "chat_stopStream",
            channel=channel,
            ts=ts,
            markdown_text=neutralise(markdown_text) or None,
            blocks=neutralise_blocks(blocks) or None,
        )

    async def thread(self, channel: str, thread_ts: str, limit: int = 50) -> list[dict[str, Any]]:
        """The messages of a thread, oldest first (its parent included)."""
        response = await self._call(
            "conversations_replies", channel=channel, ts=thread_ts, limit=limit
        )
        return list(response.get("messages") or [])

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        await self._call("views_publish", user_id=user, view=neutralise_blocks(view))

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

    async def respond(self, response_url: str, rendered: Rendered) -> None:
        """Answer through a slash command's `response_url`, visible to the asker only.

        It works where the bot is not a member (private channels, DMs between people), but only
        five times in thirty minutes, so it is never used for progressive edits.
        """
        webhook = AsyncWebhookClient(response_url, timeout=30)
        response = await webhook.send(
            text=neutralise(rendered.text),
            blocks=neutralise_blocks(rendered.blocks),
            response_type="ephemeral",
            replace_original=False,
        )
        if response.status_code == 429:
            raise RateLimited(_retry_after(response.headers))
        if response.status_code != 200:
            raise SlackError(
                f"response_url answered HTTP {response.status_code}: {response.body}",
                code=f"http_{response.status_code}",
            )

    async def _call(self, method: str, **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        name = method.replace("_", ".", 1)
        if self.metrics is not None:
            self.metrics.slack_calls.labels(name).inc()
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            error = _mapped(method, exc)
            if self.metrics is not None:
                if isinstance(error, RateLimited):
                    self.metrics.slack_throttled.labels(name).inc()
                else:
                    self.metrics.errors.labels(f"slack_{getattr(error, 'code', 'error')}").inc()
            raise error from exc


def _mapped(method: str, exc: SlackApiError) -> Exception:
    response = exc.response
    if response.status_code == 429:
        return RateLimited(_retry_after(response.headers))
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"http_{response.status_code}")
    message = f"Slack {method.replace('_', '.')} failed: {code}"
    if code in CANNOT_POST:
        return CannotPost(message, code=code)
    if code in GONE:
        return MessageGone(message, code=code)
    if code == "ratelimited":
        return RateLimited(_retry_after(response.headers))
    return SlackError(message, code=code)


def _retry_after(headers: Any) -> float:
    """Seconds from a `Retry-After` header (1 when absent); header maps differ by client."""
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(value, list):
        value = value[0]
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 1.0
