"""Serving a fake on 127.0.0.1 with a port the OS picks, so tests never collide; and waiting
for a real bot process to serve."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on a free loopback port; return its runner (to clean up) and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def free_port() -> int:
    """A loopback port nothing listens on right now, for a bot process to serve on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> int:
    """The status of the first answer `url` gives (the bot's `/healthz`), while `process`
    starts; fails if it exits or never answers."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError("the bot exited during start-up")
            try:
                async with http.get(url) as r:
                    return r.status
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise AssertionError("the bot never answered /healthz")
