"""`branchbot run`: start what is configured, serve until SIGINT/SIGTERM, stop in order."""

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from telegram.error import InvalidToken, NetworkError

from bot.app.metrics import ServiceMetrics
from bot.app.services import Services, build_services, check_schema
from bot.app.settings import PREFIX, ConfigError, Settings
from bot.channels.outbox import Limits, OutboxSender, Transport
from bot.channels.telegram.convert import PLATFORM
from bot.channels.telegram.service import TelegramService, telegram_limits
from bot.channels.wecom.client import WeComError
from bot.channels.wecom.convert import CALLBACK_PATH
from bot.channels.wecom.convert import PLATFORM as WECOM
from bot.channels.wecom.deliver import WECOM_LIMITS
from bot.channels.wecom.robot import ROBOT_LIMITS, ROBOT_PLATFORM, RobotTransport, resolver
from bot.web.auth import STATE as WEB_STATE
from bot.web.pages import add_web_pages
from bot.web.probes import Probes
from bot.web.server import Handler, build_web_app, start_site
from handlers.core.extras import optional_part
from handlers.study import index as study_index
from scheduler.context import JobContext
from scheduler.setup import SchedulerService
from storage.leader import Leadership
from storage.signals import AfterCommit

if TYPE_CHECKING:
    from bot.channels.wecom.service import WeComService

log = logging.getLogger(__name__)


@dataclass
class Running:
    services: Services
    scheduler: SchedulerService
    telegram: TelegramService | None
    wecom: "WeComService | None"
    sender: OutboxSender
    web_runner: web.AppRunner
    port: int
    indexing: asyncio.Task[None] | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def stop(self) -> None:
        if self.indexing is not None and not self.indexing.done():
            self.indexing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.indexing
        await self.scheduler.stop()
        await _stop_parts(self.web_runner, self.telegram, self.wecom, self.sender, self.services)


def outbox_limits(settings: Settings) -> dict[str, Limits]:
    """Each platform's budget: Telegram's from the OUTBOX_ settings, WeCom's and its group
    robots' their own."""
    telegram = telegram_limits(settings)
    wecom = replace(WECOM_LIMITS, max_attempts=settings.outbox_max_attempts)
    robots = replace(ROBOT_LIMITS, max_attempts=settings.outbox_max_attempts)
    return {PLATFORM: telegram, WECOM: wecom, ROBOT_PLATFORM: robots}


def start_sender(
    services: Services,
    transports: dict[str, Transport],
    limits: Limits | dict[str, Limits] | None = None,
) -> OutboxSender:
    router = services.router
    sender = OutboxSender(
        services.sessions,
        services.box,
        Leadership(services.engine, "outbox"),
        transports,
        limits or outbox_limits(services.settings),
        router.clock,
        services.readers,
        services.budgets,
    )
    router.on_commit(AfterCommit.WAKE_SENDER, sender.wake)
    sender.start()
    return sender


async def start(settings: Settings) -> Running:
    """Start the HTTP server, the configured platforms (Telegram, WeCom), the outbox sender
    and the scheduler."""
    if settings.telegram_token is None and not settings.wecom_configured:
        raise ConfigError(f"{PREFIX}TELEGRAM_TOKEN", "not set (nor the WECOM_ settings)")
    services = build_services(settings)
    probes = _probes(services)
    try:
        await check_schema(services.engine)
        telegram = TelegramService(services) if settings.telegram_token else None
        wecom = _wecom(services) if settings.wecom_configured else None
        web_app = build_web_app(
            _webhooks(telegram),
            _callbacks(wecom),
            lambda app: add_web_pages(app, services),
            probes.add_routes,
        )
        web_runner, port = await start_site(web_app, settings.listen_host, settings.listen_port)
    except BaseException:
        await services.close()
        raise
    try:
        await _start_adapters(telegram, wecom)
    except BaseException:
        await web_runner.cleanup()
        await services.close()
        raise
    sender = _start_sending(services, telegram, wecom)
    sender.on_attempt = probes.metrics.attempted
    probes.hold("outbox", lambda: sender.leadership.held)
    web_app[WEB_STATE].wake = sender.wake  # a login code goes out at once
    router = services.router
    leading = Leadership(services.engine, "scheduler")
    job_context = JobContext(
        services.sessions, services.box, router.options, router.clock, sender.wake, leading.fence
    )
    scheduler = SchedulerService(
        job_context, settings.database_url, settings.zone, leading, probes.metrics.job
    )
    probes.hold("scheduler", lambda: scheduler.leading)
    try:
        await scheduler.start()
    except BaseException:
        await _stop_parts(web_runner, telegram, wecom, sender, services)
        raise
    router.on_commit(AfterCommit.MEETINGS_CHANGED, scheduler.sync_meetings_now)
    # The search index builds in the background from the stored terms (jieba's dictionary
    # loads only when something is to be cut: handlers/study/text.py); a search arriving
    # first waits for it.
    indexing = asyncio.create_task(_build_index(services), name="study-index")
    log.info("branchbot serving on %s:%d", settings.listen_host, port)
    return Running(services, scheduler, telegram, wecom, sender, web_runner, port, indexing)


def _probes(services: Services) -> Probes:
    """/healthz and /metrics over this service's own registry, told of every update."""
    metrics = ServiceMetrics()
    services.router.on_handled(metrics.handled)
    token = services.settings.metrics_token
    secret = token.get_secret_value() if token is not None else None
    return Probes(services.engine, services.readers, services.box, metrics, secret)


async def _start_adapters(telegram: TelegramService | None, wecom: "WeComService | None") -> None:
    """Start each configured platform; if one fails, close both and raise."""
    try:
        if telegram is not None:
            await _start_telegram(telegram)
        if wecom is not None:
            await _start_wecom(wecom)
    except BaseException:
        if telegram is not None:
            await telegram.close()
        if wecom is not None:
            await wecom.close()
        raise


def _start_sending(
    services: Services, telegram: TelegramService | None, wecom: "WeComService | None"
) -> OutboxSender:
    """The outbox sender over every configured platform; WeCom group robots need nothing
    configured (a robot's address is all it takes)."""
    transports: dict[str, Transport] = {}
    if telegram is not None:
        transports[PLATFORM] = telegram.transport
    if wecom is not None:
        transports[WECOM] = wecom.transport
    resolve = resolver(services.readers, services.box)
    transports[ROBOT_PLATFORM] = RobotTransport(resolve, services.renderer)
    return start_sender(services, transports)


async def _build_index(services: Services) -> None:
    try:
        async with services.readers() as session:
            await study_index.current_index(session, cutting=False)
    except Exception:  # the first search tries again
        log.exception("building the study search index failed")


async def _stop_parts(
    web_runner: web.AppRunner,
    telegram: TelegramService | None,
    wecom: "WeComService | None",
    sender: OutboxSender,
    services: Services,
) -> None:
    """Stop in order: no more webhook posts, no more updates, the message in flight, the
    transports, then the database."""
    await web_runner.cleanup()
    if telegram is not None:
        await telegram.stop()
    await sender.stop()
    robots = sender.transports.get(ROBOT_PLATFORM)
    if isinstance(robots, RobotTransport):
        await robots.close()
    if telegram is not None:
        await telegram.close()
    if wecom is not None:
        await wecom.close()
    await services.close()


# What a refused first token says is wrong (others: WeCom's own trouble).
STARTUP_ERRORS = {40013: "WECOM_CORP_ID", 40001: "WECOM_SECRET", 40091: "WECOM_SECRET",
                  41004: "WECOM_SECRET", 60020: "WECOM_BASE_URL"}  # fmt: skip


def _webhooks(telegram: TelegramService | None) -> dict[str, Handler]:
    if telegram is not None and telegram.webhook_mode:
        return {telegram.webhook_path: telegram.handle_webhook}
    return {}


def _wecom(services: Services) -> "WeComService":
    # Imported only when configured: wechatpy (and requests) cost start-up time otherwise,
    # and a deployment without WeCom may leave out the `wecom` extra.
    with optional_part("wecom", "WeCom"):
        import eviltransform  # noqa: F401  (checked here: only a location message needs it)

        from bot.channels.wecom.service import WeComService

    return WeComService(services)


def _callbacks(wecom: "WeComService | None") -> dict[str, Handler]:
    return {CALLBACK_PATH: wecom.handle} if wecom is not None else {}


async def _start_wecom(wecom: "WeComService") -> None:
    """Fetch the first access token; a wrong secret or an unreachable API stops start-up."""
    base = wecom.client.base_url
    try:
        await wecom.start()
    except WeComError as err:
        setting = STARTUP_ERRORS.get(err.errcode, "WECOM_BASE_URL")
        raise ConfigError(f"{PREFIX}{setting}", f"refused by WeCom: {err}") from err
    except (aiohttp.ClientError, TimeoutError) as err:
        raise ConfigError(f"{PREFIX}WECOM_BASE_URL", f"cannot reach {base}: {err!r}") from err


async def _start_telegram(telegram: TelegramService) -> None:
    """Start the adapter; a rejected token or an unreachable API is a configuration error."""
    try:
        await telegram.start()
    except InvalidToken as err:
        raise ConfigError(f"{PREFIX}TELEGRAM_TOKEN", "rejected by the Bot API") from err
    except NetworkError as err:
        base = telegram.settings.telegram_base_url
        raise ConfigError(f"{PREFIX}TELEGRAM_BASE_URL", f"cannot reach {base}: {err}") from err


async def serve(settings: Settings) -> None:
    # Signals are caught from the very start: a SIGTERM while the service is still starting
    # (it may already be answering) stops it in order once it is up, instead of killing it.
    stop_asked = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop_asked.set)
    running = await start(settings)
    asked = asyncio.ensure_future(stop_asked.wait())
    stopped = asyncio.ensure_future(running.stopped.wait())
    try:
        await asyncio.wait((asked, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (asked, stopped):
            waiter.cancel()
        log.info("stopping")
        await running.stop()
