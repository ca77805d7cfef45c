"""Standalone entry point of the fake Telegram server: python -m tests.support.fake_telegram.

Prints "fake Telegram Bot API on URL" once listening and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from tests.support.fake_telegram.server import FakeTelegram


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the standalone server."""
    parser = argparse.ArgumentParser(description="Run a fake Telegram Bot API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--global-rate", type=float, default=None)
    parser.add_argument("--webhook-connections", type=int, default=1)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT or SIGTERM."""
    fake = FakeTelegram(
        args.token, global_rate=args.global_rate, webhook_connections=args.webhook_connections
    )
    await fake.start(args.host, args.port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    print(f"fake Telegram Bot API on {fake.base_url}", flush=True)
    try:
        await stopping.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of python -m tests.support.fake_telegram."""
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
