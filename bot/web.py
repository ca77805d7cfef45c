"""The service's HTTP side (aiohttp): health check and the platforms' webhook endpoints."""

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_web_app(
    webhooks: dict[str, Handler],
    callbacks: dict[str, Handler] | None = None,
    pages: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """One aiohttp app: /healthz, a POST route per webhook path (Telegram), a GET and
    POST route per callback path (WeCom checks the URL with a GET), and `pages` (the web
    report under /web) adds its routes."""
    app = web.Application(client_max_size=1024 * 1024)
    if pages is not None:
        pages(app)
    app.router.add_get("/healthz", healthz)
    for path, handler in webhooks.items():
        app.router.add_post(path, handler)
    for path, handler in (callbacks or {}).items():
        app.router.add_get(path, handler)
        app.router.add_post(path, handler)
    return app


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the port actually bound (port 0 picks one)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)
