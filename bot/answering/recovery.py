"""Answers cut off by a crash are finished by whichever replica is alive.

Every streaming answer has a row in the store (`in_flight`) naming the replica that streams it
and a lease: the time until which that replica vouches for it. A live replica renews the leases
of all its answers every third of `lease` seconds. When a replica dies (kill -9, OOM, a lost
node), its leases stop being renewed; after at most `lease` seconds another replica's sweep
takes the rows over — atomically, so two survivors never finish the same answer — and ends each
half-written Slack message with the text it had, a "restarted" notice and a Retry button.

At start-up a replica also takes back rows recorded under its own id at once: with a stable
`SHOPMAX_REPLICA_ID` they are its previous life's, which cannot still be streaming.
"""

from __future__ import annotations

import asyncio
import logging

from bot.delivery.slack_api import SlackApi
from bot.errors import SlackError
from bot.store import Store
from bot.wording import markdown, texts

log = logging.getLogger(__name__)


class Leases:
    """This replica's hold on its streaming answers, and the sweep that finishes the dead's."""

    def __init__(self, store: Store, slack: SlackApi | None, *, replica: str, lease: float) -> None:
        self.store = store
        self.slack = slack
        self.replica = replica
        self.lease = lease
        self._task: asyncio.Task[None] | None = None

    async def sweep(self, *, own_too: bool = False) -> int:
        """Take over answers whose lease ran out (and, at start-up, this replica's own) and
        finish them in Slack; returns how many messages were finished."""
        finished = 0
        for answer in await self.store.take_over(self.replica, self.lease, own_too=own_too):
            # An answer that never reached Slack (or a bot without Slack: the web-only mode,
            # which should not share a database with Slack replicas) has nothing to finish.
            if answer.ts and self.slack is not None:
                # The question was saved under the answer's id: Retry asks it again on any
                # replica.
                rendered = markdown.render_piece(
                    answer.text,
                    in_progress=False,
                    notices=(texts.NOTICE_RESTARTING,),
                    actions=markdown.retry_button(answer.answer_id),
                )
                try:
                    await self.slack.update(answer.channel, answer.ts, rendered)
                    finished += 1
                except SlackError as exc:
                    log.warning("could not finish an interrupted answer: %s", exc)
            await self.store.end_answer(answer.answer_id)
        if finished:
            log.info("finished %d answer(s) cut off on a replica that stopped", finished)
        return finished

    def start(self) -> None:
        """Renew this replica's leases and sweep for others' every third of the lease."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="leases")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.store.renew_leases(self.replica, self.lease)
                await self.sweep()
            except Exception:  # a database blip must not end the heartbeat for good
                log.exception("could not renew leases or sweep; trying again")
