"""The offline demo model: answers from the catalog tools, through the real Anthropic SDK,
with no API key and no network. See `server` for the wire, `plan` for what it does next and
`answer` for what it writes.

    async with DemoModel.start() as demo:
        client = anthropic.AsyncAnthropic(base_url=demo.url, api_key=DEMO_API_KEY)
"""

from bot.model.demo.names import Names, NamesSource
from bot.model.demo.server import DEMO_API_KEY, DEMO_MODEL, INSTANT, DemoModel, Pace, tokens

__all__ = [
    "DEMO_API_KEY",
    "DEMO_MODEL",
    "INSTANT",
    "DemoModel",
    "Names",
    "NamesSource",
    "Pace",
    "tokens",
]
