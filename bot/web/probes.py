"""/healthz and /metrics: whether this process and its database answer, and its figures.

/healthz is for a load balancer or a container's health check: the roles this process holds
and whether the database answers a `SELECT 1` in time (503 when it does not). /metrics is
Prometheus's text format (bot/app/metrics.py); it shows counts only, never who or what, and
asks for `Authorization: Bearer <METRICS_TOKEN>` when that setting is set.
"""

import asyncio
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app.metrics import ServiceMetrics
from storage.crypto import SecretBox

log = logging.getLogger(__name__)
DATABASE_PATIENCE = 2.0  # seconds; a health check must answer before its caller gives up


@dataclass
class Probes:
    engine: AsyncEngine
    readers: async_sessionmaker[AsyncSession]
    box: SecretBox
    metrics: ServiceMetrics
    token: str | None = None  # METRICS_TOKEN
    patience: float = DATABASE_PATIENCE
    # Each role this process may hold (outbox, scheduler) and whether it holds it now.
    roles: dict[str, Callable[[], bool]] = field(default_factory=dict)

    def hold(self, role: str, holds: Callable[[], bool]) -> None:
        """A role this process now competes for; `holds` says whether it has it."""
        self.roles[role] = holds
        self.metrics.role(role, holds)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.scrape)

    def held(self) -> list[str]:
        return [role for role, holds in self.roles.items() if holds()]

    async def healthz(self, _request: web.Request) -> web.Response:
        answers = await self._database_answers()
        body = {
            "status": "ok" if answers else "unavailable",
            "database": "ok" if answers else "unreachable",
            "roles": self.held(),
        }
        return web.json_response(body, status=200 if answers else 503)

    async def _database_answers(self) -> bool:
        async def ask() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(ask(), self.patience)
        except Exception as err:  # refused, timed out, any driver error: it does not answer
            log.warning("health check: the database did not answer: %r", err)
            return False
        return True

    async def scrape(self, request: web.Request) -> web.Response:
        if self.token is not None and not _bearer_matches(request, self.token):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        try:
            await asyncio.wait_for(self._read_database(), self.patience)
            self.metrics.database_up.set(1)
        except Exception as err:  # the in-process figures are still worth serving
            log.warning("metrics: the database did not answer: %r", err)
            self.metrics.database_up.set(0)
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _read_database(self) -> None:
        async with self.readers() as session:
            await self.metrics.read_database(session, self.box)


def _bearer_matches(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    matches = hmac.compare_digest(value.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and matches
