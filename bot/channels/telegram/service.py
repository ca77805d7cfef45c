"""The Telegram side of `branchbot run`: a PTB Application fed by polling or by our webhook.

Every update is stored in the inbox before Telegram is told it arrived (intake.py), then
goes through the router (dedup, one transaction) and the replies go straight back. In webhook
mode our aiohttp server receives the POSTs and checks the secret token.
"""

import hmac
import json
import logging
from urllib.parse import urlparse

from aiohttp import web
from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.app.services import Services
from bot.app.settings import Settings
from bot.channels.budget import Limits
from bot.channels.faults import answer, crash_point
from bot.channels.inbox import InboxWorker
from bot.channels.telegram.convert import PLATFORM, to_incoming
from bot.channels.telegram.deliver import TelegramTransport
from bot.channels.telegram.intake import POLLER, Poller, arrival, set_webhook_once
from bot.channels.telegram.limiter import BudgetLimiter
from bot.channels.telegram.send import send_replies
from bot.channels.telegram.transport import AiohttpRequest
from handlers.account.help import visible_commands
from handlers.core.context import FileUnavailable
from handlers.core.incoming import Attachment
from handlers.core.registry import HERE
from storage import people
from storage.enums import Role
from storage.leader import Leadership

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_limits(settings: Settings) -> Limits:
    """Telegram's budget, from the OUTBOX_ settings (the outbox and the answers share it)."""
    return Limits(
        per_second=settings.outbox_per_second,
        chat_per_second=settings.outbox_chat_per_second,
        group_per_minute=settings.outbox_group_per_minute,
        max_attempts=settings.outbox_max_attempts,
    )


class TelegramService:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        # Direct answers and the outbox draw on one budget (bot/channels/budget.py).
        self.budget = services.budgets.of(PLATFORM, telegram_limits(self.settings))
        self.application = self._build()
        base = self.settings.telegram_base_url
        # The outbox's own Bot: no PTB rate limiter (the sender takes its slots and retries)
        # and its own connections, so a long broadcast never queues behind answers to users.
        self.outbox_bot = Bot(
            self.settings.require_telegram_token(),
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=AiohttpRequest(pool_size=2),
        )
        self.transport = TelegramTransport(self.outbox_bot, services.renderer)
        self.inbox = InboxWorker(
            services.sessions,
            services.box,
            PLATFORM,
            self._process,
            concurrency=self.settings.telegram_concurrency,
            lease=self.settings.inbox_lease_seconds,
        )
        self.poller: Poller | None = None

    @property
    def webhook_mode(self) -> bool:
        return self.settings.webhook_url is not None

    @property
    def webhook_path(self) -> str:
        return urlparse(self.settings.webhook_url or "").path or "/telegram"

    def _build(self) -> Application:
        self._updates_request = AiohttpRequest(pool_size=1)
        base = self.settings.telegram_base_url
        builder: ApplicationBuilder = (
            Application.builder()
            .token(self.settings.require_telegram_token())
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .request(AiohttpRequest(pool_size=self.settings.telegram_concurrency + 4))
            # getUpdates waits up to its long-poll timeout (intake.Poller).
            .get_updates_request(self._updates_request)
        )
        if self.settings.telegram_rate_limit:
            builder = builder.rate_limiter(BudgetLimiter(self.budget))
        application = builder.updater(None).build()  # the inbox takes updates in (intake.py)
        return application

    async def _route(self, update: Update, bot: Bot) -> None:
        """Route one update and send the replies back to its chat."""
        incoming = to_incoming(update, bot.id, bot.username)
        if incoming is None:
            return
        replies = await self.services.answer(incoming)
        await send_replies(bot, update, replies, self.services.renderer)
        for reply in replies:
            if reply.menu_role is not None and incoming.is_private:
                await self.set_chat_menu(int(incoming.chat_id), reply.menu_role)

    async def _process(self, body: str) -> None:
        """Handle an update from the inbox (its JSON as Telegram sent it). Called directly
        rather than through Application.process_update, which would swallow a
        StoreUnavailable that the inbox must see to keep the update and try again."""
        bot = self.application.bot
        await self._route(Update.de_json(json.loads(body), bot), bot)

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        await self.outbox_bot.initialize()
        username = app.bot.username
        self.services.links.register(PLATFORM, f"https://t.me/{username}?start={{code}}")
        self.services.files.register(PLATFORM, self.fetch_file)
        if not self.webhook_mode:  # first: a second poller is refused before it does anything
            leadership = Leadership(self.services.engine, POLLER)
            self.poller = Poller(app.bot, self._updates_request, self.inbox, leadership)
            await self.poller.start()
        await self._set_menu()
        await app.start()
        self.inbox.start()
        if self.webhook_mode:
            secret = self.settings.webhook_secret
            await set_webhook_once(
                app.bot,
                self.settings.webhook_url or "",
                secret.get_secret_value() if secret else None,
                self.services,
            )
        else:
            log.info("Telegram polling as @%s", username)

    async def fetch_file(self, _platform: str, attachment: Attachment, limit: int) -> bytes:
        """A file a user sent, by getFile and its download (at most `limit` bytes: the size
        Telegram gives is checked before the download)."""
        if attachment.size is not None and attachment.size > limit:
            raise FileUnavailable(f"file larger than {limit} bytes")
        try:
            found = await self.application.bot.get_file(attachment.file_id)
            if found.file_size is not None and found.file_size > limit:
                raise FileUnavailable(f"file larger than {limit} bytes")
            return bytes(await found.download_as_bytearray())
        except TelegramError as err:
            raise FileUnavailable(f"Telegram refused the file: {err}") from err

    def _menu(self, role: str) -> list[BotCommand]:
        renderer = self.services.renderer
        return [
            BotCommand(c.name, renderer.render_key(c.summary_key))
            for c in visible_commands(self.services.router.commands, role)
        ]

    def _group_menu(self) -> list[BotCommand]:
        """In groups: the commands made for a group (binding it, a roll-call …), whoever may
        use them; anything else typed there is answered privately."""
        renderer = self.services.renderer
        return [
            BotCommand(c.name, renderer.render_key(c.summary_key))
            for c in self.services.router.commands
            if c.in_group == HERE and not c.hidden
        ]

    async def _set_menu(self) -> None:
        """Everyone's menu shows what a member may use; committee members, secretaries and
        admins get their own chat's menu with their extra commands."""
        bot = self.application.bot
        await bot.set_my_commands(self._menu(Role.MEMBER))
        await bot.set_my_commands(self._group_menu(), scope=BotCommandScopeAllGroupChats())
        async with self.services.readers() as session:
            staff = await people.staff_chats(session, PLATFORM)
        for chat_id, role in staff:
            await self.set_chat_menu(int(chat_id), role)

    async def set_chat_menu(self, chat_id: int, role: str) -> None:
        if role == Role.MEMBER:
            return
        try:
            await self.application.bot.set_my_commands(
                self._menu(role), scope=BotCommandScopeChat(chat_id)
            )
        except TelegramError as err:
            log.info("could not set the menu of chat %s: %s", chat_id, err)

    async def stop(self) -> None:
        """Stop taking updates; the outbox transport stays up until close()."""
        app = self.application
        if self.poller is not None:
            await self.poller.stop()
        await self.inbox.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def close(self) -> None:
        await self.outbox_bot.shutdown()

    async def handle_webhook(self, request: web.Request) -> web.Response:
        """Accept a POST from Telegram after checking its secret token header."""
        secret = self.settings.webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value()):
            log.warning("webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=403)
        if not self.application.running:  # still starting (or stopping): Telegram retries
            return web.Response(status=503)
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError(f"a JSON {type(data).__name__}, not an object")
            # PTB takes any update_id, but the once-only claim keys on it: a number or nothing.
            if type(data.get("update_id")) is not int:
                raise TypeError("update_id is not a number")
            Update.de_json(data, self.application.bot)  # what PTB cannot read is refused
        except Exception as err:  # anything PTB cannot read is the caller's fault: one line
            log.warning("webhook body refused: %s", type(err).__name__)  # never its content
            return web.Response(status=400)
        # Stored (committed) before the 200: Telegram never sends an update twice after it.
        await self.inbox.accept([arrival(data, self.application.bot.id)])
        crash_point("inbox.accepted")
        return await answer(request, web.Response(), "webhook.answered")
