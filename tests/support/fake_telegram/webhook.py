"""Webhook delivery of the fake Telegram server.

Queued updates are POSTed to the webhook one at a time, in order, with retries; or, with
more than one connection, that many at once, as Telegram does up to its max_connections
(then one chat's updates may overtake each other: the benchmarks send one a chat).
"""

from __future__ import annotations

import asyncio

from aiohttp import ClientError

from tests.support.fake_telegram.api import JSON
from tests.support.fake_telegram.state import FakeState


class WebhookMixin(FakeState):
    """Delivers queued updates to the webhook set with setWebhook."""

    WEBHOOK_RETRIES = 3
    WEBHOOK_RETRY_PAUSE = 0.2

    async def _deliver_forever(self) -> None:
        """Deliver queued updates to the webhook, one at a time on each connection."""
        assert self._deliveries is not None
        while True:
            update_id = await self._deliveries.get()
            update = next((u for u in self._updates if u["update_id"] == update_id), None)
            if update is not None and await self._deliver(update):
                self._updates = [pending for pending in self._updates if pending is not update]
                self._notify()

    async def _deliver(self, update: JSON) -> bool:
        """POST one update to the webhook, retrying failures; whether it was accepted."""
        for attempt in range(self.WEBHOOK_RETRIES + 1):
            if self.webhook_url is None:
                return False
            status = await self._post_update(self.webhook_url, update)
            self.webhook_deliveries.append(status)
            self._notify()
            if 200 <= status < 300:
                return True
            if attempt < self.WEBHOOK_RETRIES:
                await asyncio.sleep(self.WEBHOOK_RETRY_PAUSE)
        return False

    async def _post_update(self, url: str, update: JSON) -> int:
        """One delivery attempt: the HTTP status, or 0 when the connection failed."""
        assert self._session is not None
        headers = {}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                await response.read()
                return response.status
        except (ClientError, TimeoutError):
            return 0
