"""One bot token: Slack's `auth.test` once, at start, for every request after.

Bolt's single-workspace authorization calls `auth.test` on a request and caches the answer,
but every request that arrives before the first answer is back calls it too (a hundred questions
at once made a hundred calls), and each waits on that Slack round trip before its ack. With one
bot token the answer never changes, so it is asked once when the bot starts and every request
reuses it. If Slack cannot be reached at start, the first request asks (the others wait for that
one call) and the bot starts anyway.
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0  # seconds for the call at start before the bot starts without it


class OneToken(AsyncAuthorize):
    """Bolt's `authorize` for a single bot token, asking Slack who it is only once."""

    def __init__(self, client: AsyncWebClient) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        self._client = client
        self._result: AuthorizeResult | None = None
        self._asking: asyncio.Lock = asyncio.Lock()

    async def start(self) -> None:
        """Ask now, so no request waits on Slack; a failure is logged, not raised."""
        try:
            await asyncio.wait_for(self.result(), START_TIMEOUT)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("Slack's auth.test failed at start (%s): the first request asks", exc)

    async def result(self) -> AuthorizeResult:
        """Who the token is, asked at most once (concurrent callers share the one call)."""
        if self._result is None:
            async with self._asking:
                if self._result is None:
                    response = await self._client.auth_test()
                    self._result = AuthorizeResult.from_auth_test_response(
                        bot_token=self._client.token, auth_test_response=response
                    )
        return self._result

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        return await self.result()
