"""A round-robin load balancer for webhook posts: each POST goes to the next backend in turn,
as a proxy in front of several service processes would send it."""

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from bot.web.server import start_site

FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


@asynccontextmanager
async def round_robin(backends: list[str]) -> AsyncIterator[str]:
    """Serve a balancer over `backends` (base URLs); yields its own base URL."""
    turn = itertools.cycle(backends)
    http = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        url = f"{next(turn)}{request.path_qs}"
        headers = {k: request.headers[k] for k in FORWARDED if k in request.headers}
        try:
            async with http.post(url, data=await request.read(), headers=headers) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner, port = await start_site(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await http.close()
