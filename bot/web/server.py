"""The service's HTTP side (aiohttp): health check, metrics and the platforms' webhooks.

Every response, error pages included, carries the same security headers and names no
software versions.
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The web page needs no script, no inline style, nothing from elsewhere, and no frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Server": "branchbot",
}


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


async def healthz(_request: web.Request) -> web.Response:
    """The health check of an app built without probes (test rigs): it is up."""
    return web.json_response({"status": "ok"})


def build_web_app(
    webhooks: dict[str, Handler],
    callbacks: dict[str, Handler] | None = None,
    pages: Callable[[web.Application], None] | None = None,
    probes: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """One aiohttp app: a POST route per webhook path (Telegram), a GET and POST route per
    callback path (WeCom checks the URL with a GET); `pages` (the web report under /web)
    and `probes` (/healthz and /metrics, bot/web/probes.py) add their routes. Without
    probes, /healthz only says the app is up."""
    app = web.Application(client_max_size=1024 * 1024)
    app.on_response_prepare.append(_security_headers)
    if pages is not None:
        pages(app)
    if probes is not None:
        probes(app)
    else:
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
