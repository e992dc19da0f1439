"""What the Slack listeners are given: the answering path, and what they do themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.accounting.metrics import Metrics
from bot.answering.answerer import Answerer
from bot.catalog.stores import StoreDirectory
from bot.delivery.slack_api import SlackApi
from bot.store import Store
from bot.surfaces.slack.store_command import Admins
from bot.surfaces.slack.usage_views import UsageViews


@dataclass(frozen=True)
class SlackSurface:
    answerer: Answerer
    store: Store
    slack: SlackApi
    metrics: Metrics
    views: UsageViews
    stores: StoreDirectory | None = None  # the catalog's stores (None: the catalog is off)
    admins: Admins = field(default_factory=lambda: Admins(frozenset(), None))
