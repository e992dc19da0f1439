"""What the Slack listeners are given: the answering path, and what they do themselves."""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounting.metrics import Metrics
from bot.answering.answerer import Answerer
from bot.delivery.slack_api import SlackApi
from bot.store import Store
from bot.surfaces.slack.usage_views import UsageViews


@dataclass(frozen=True)
class SlackSurface:
    answerer: Answerer
    store: Store
    slack: SlackApi
    metrics: Metrics
    views: UsageViews
