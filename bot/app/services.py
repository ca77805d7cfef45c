"""Wiring: build the engine, session factory, secret box, renderer and router from settings."""

import tomllib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app.settings import ConfigError, Settings
from bot.channels.budget import Budgets
from bot.reports.paper import written
from handlers.care.segment_rules import SEGMENTS_FILE, SegmentError, segment_rules
from handlers.core.context import FileFetcher, FileUnavailable, Options
from handlers.core.i18n import Renderer
from handlers.core.incoming import Attachment, Incoming
from handlers.core.messages import Reply
from handlers.core.router import Clock, Router, utc_now
from handlers.evaluation.indicators import INDICATORS_FILE, IndicatorError, indicator_set
from handlers.features import FEATURES
from handlers.pipeline.rules import RULES_FILE, rule_set
from storage import schema
from storage.crypto import SecretBox
from storage.db import DELIVER_TO, create_engine, reader_factory, session_factory


class DeepLinks:
    """Per-platform `/start CODE` links, registered by adapters once they know the bot's name."""

    def __init__(self) -> None:
        self.templates: dict[str, str] = {}

    def register(self, platform: str, template: str) -> None:
        self.templates[platform] = template

    def __call__(self, platform: str, code: str) -> str | None:
        template = self.templates.get(platform)
        return template.format(code=code) if template else None


class Files:
    """Per-platform fetchers of the bytes of a file a user sent, registered by adapters once
    they have a client (Telegram's getFile, WeCom's media/get)."""

    def __init__(self) -> None:
        self.fetchers: dict[str, FileFetcher] = {}

    def register(self, platform: str, fetcher: FileFetcher) -> None:
        self.fetchers[platform] = fetcher

    async def __call__(self, platform: str, attachment: Attachment, limit: int) -> bytes:
        fetcher = self.fetchers.get(platform)
        if fetcher is None:
            raise FileUnavailable(f"no file fetcher for {platform}")
        content = await fetcher(platform, attachment, limit)
        if len(content) > limit:
            raise FileUnavailable(f"file larger than {limit} bytes")
        return content


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    renderer: Renderer
    router: Router
    links: DeepLinks
    readers: async_sessionmaker[AsyncSession]
    files: Files
    budgets: Budgets  # each platform's sending budget (bot/channels/budget.py)

    async def answer(self, incoming: Incoming) -> list[Reply]:
        """The router's replies to an update, with the papers among them written as PDF files
        in the deployment's language (a handler describes a paper; the edge writes it)."""
        return await written(await self.router.handle(incoming), self.renderer)

    async def close(self) -> None:
        await self.budgets.close()
        await self.engine.dispose()


def handler_options(settings: Settings) -> Options:
    return Options.read(settings, settings.zone)


def check_rules() -> None:
    """The development rules file is read at start-up, so a mistake in it stops the service
    with one line instead of failing the first /pipeline."""
    try:
        rule_set()
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(str(RULES_FILE), f"{type(err).__name__}: {err}") from None


def check_indicators(settings: Settings) -> None:
    """The indicator file (INDICATORS_FILE, or the packaged one) is read at start-up too: a
    mistake stops the service with one line naming the file, the indicator and the problem,
    instead of failing the first /report."""
    path = settings.indicators_file or INDICATORS_FILE
    try:
        indicator_set(settings.indicators_file)
    except IndicatorError as err:
        raise ConfigError(str(path), str(err)) from None


def check_segments(settings: Settings) -> None:
    """The groups of /segments (SEGMENTS_FILE, or the packaged file) are read at start-up
    too, so a mistake stops the service with one line instead of failing /segments."""
    path = settings.segments_file or SEGMENTS_FILE
    try:
        segment_rules(settings.segments_file)
    except SegmentError as err:
        raise ConfigError(str(path), str(err)) from None


def build_services(settings: Settings, clock: Clock = utc_now) -> Services:
    check_rules()
    check_indicators(settings)
    check_segments(settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine, {DELIVER_TO: settings.deliver_to})
    box = SecretBox(settings.require_secret_key())
    links, files = DeepLinks(), Files()
    options = handler_options(settings)
    router = Router(
        sessions, box, FEATURES, options, clock=clock, deep_link=links, fetch_file=files
    )
    renderer = Renderer(settings.lang, settings.zone)
    budgets = Budgets.for_engine(engine, settings.rate_margin, settings.rate_block)
    return Services(
        settings,
        engine,
        sessions,
        box,
        renderer,
        router,
        links,
        reader_factory(engine),
        files,
        budgets,
    )


class SchemaOutdated(Exception):
    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(f"schema at {current}, code expects {head}")
        self.current, self.head = current, head


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to serve on a database that `branchbot init` has not brought up to date."""
    current, head = await schema.current_revision(engine), schema.head_revision()
    if current != head:
        raise SchemaOutdated(current, head)
