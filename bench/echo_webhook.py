"""The bare echo bot of bench/processes.py: an aiohttp webhook app, no PTB, no database.

    python -m bench.echo_webhook --port PORT --api URL [--token TOKEN] [--secret SECRET]

It takes Telegram's post, checks the secret header, sends the text back with one sendMessage
to the Bot API at URL and answers the post: the least a webhook bot does for an update. It
imports aiohttp and nothing of the service's. Prints "ready" once it listens; stops on SIGTERM.
"""

import argparse
import asyncio
import hmac
import signal

import aiohttp
from aiohttp import web

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def echo_app(http: aiohttp.ClientSession, send: str, secret: str) -> web.Application:
    """The webhook app; `send` is the URL of sendMessage."""

    async def echo(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        message = (await request.json()).get("message") or {}
        if "text" in message:
            reply = {"chat_id": message["chat"]["id"], "text": message["text"]}
            async with http.post(send, json=reply) as answer:
                await answer.read()
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram", echo)
    return app


async def serve(port: int, send: str, secret: str) -> None:
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    async with aiohttp.ClientSession() as http:
        runner = web.AppRunner(echo_app(http, send, secret), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        await stopping.wait()
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    asyncio.run(serve(args.port, f"{args.api}/bot{args.token}/sendMessage", args.secret))
