"""`branchbot run`: start what is configured, serve until SIGINT/SIGTERM, stop in order."""

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Services, build_services, check_schema
from bot.config import Settings
from bot.tg.service import TelegramService
from bot.web import Handler, build_web_app, start_site
from scheduler.context import JobContext
from scheduler.setup import start_scheduler

log = logging.getLogger(__name__)


@dataclass
class Running:
    services: Services
    scheduler: AsyncIOScheduler
    telegram: TelegramService | None
    web_runner: web.AppRunner
    port: int
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def stop(self) -> None:
        if self.telegram is not None:
            await self.telegram.stop()
        await self.web_runner.cleanup()
        self.scheduler.shutdown(wait=False)
        await self.services.close()


async def start(settings: Settings) -> Running:
    """Start the scheduler, the Telegram adapter (if configured) and the HTTP server."""
    token = settings.require_telegram_token()  # the only adapter so far: it must be set
    services = build_services(settings)
    await check_schema(services.engine)
    telegram = TelegramService(services) if token else None
    router = services.router
    job_context = JobContext(services.sessions, services.box, router.options, router.clock)
    scheduler = start_scheduler(job_context, settings.database_url, settings.zone)
    webhooks: dict[str, Handler] = {}
    if telegram is not None and telegram.webhook_mode:
        webhooks[telegram.webhook_path] = telegram.handle_webhook
    web_runner, port = await start_site(
        build_web_app(webhooks), settings.listen_host, settings.listen_port
    )
    if telegram is not None:
        await telegram.start()
    log.info("branchbot serving on %s:%d", settings.listen_host, port)
    return Running(services, scheduler, telegram, web_runner, port)


async def serve(settings: Settings) -> None:
    running = await start(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, running.stopped.set)
    try:
        await running.stopped.wait()
    finally:
        log.info("stopping")
        await running.stop()
