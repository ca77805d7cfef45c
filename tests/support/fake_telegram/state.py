"""The shared state of the fake Telegram server, which every mixin builds on.

Holds recorded calls, queued updates, known chats and the change notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, deque
from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

from tests.support.fake_telegram.api import JSON, Call

if TYPE_CHECKING:
    from tests.support.fake_telegram.faults import _Fault


class FakeState:
    """The mutable state of a fake Telegram server and the helpers all parts share."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_id: int = 123456,
        username: str = "branchbot_test_bot",
        *,
        global_rate: float | None = None,
        group_rate: int | None = 20,
        webhook_connections: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.global_rate = global_rate
        # Telegram's "no more than 20 messages per minute in the same group" (None: off).
        self.group_rate = group_rate
        # Webhook posts in flight at once (Telegram's max_connections, 40 there by default):
        # one keeps every update in order, which the tests rely on.
        self.webhook_connections = webhook_connections
        self._group_times: dict[int, deque[float]] = {}
        self._kicked: set[int] = set()  # groups the bot was removed from
        self._migrated: dict[int, int] = {}  # old group id -> its supergroup's id
        self.calls: list[Call] = []
        self.sent: list[Call] = []
        # Kept as calls succeed: stats() is polled every few ms by benchmarks, and counting
        # the whole list each time slowed the server as it grew.
        self.sent_by_method: Counter[str] = Counter()
        self.rejected_429 = 0
        self.webhook_deliveries: list[int] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._webhook_options: JSON = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        # The bytes of files users sent (push_document with content), served by getFile.
        self.files: dict[str, bytes] = {}
        self._callback_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], JSON] = {}
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._send_times: deque[float] = deque()
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._deliveries: asyncio.Queue[int] | None = None
        self._delivery_tasks: list[asyncio.Task[None]] = []
        self._session: ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def bot_user(self) -> JSON:
        """The bot's own User object, as getMe returns it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Branch Bot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def buttons_on_latest(self, chat_id: int) -> tuple[int, list[str]]:
        """The newest message in a chat that carries an inline keyboard: its id and the
        callback data of its buttons, as a user would see them to press."""
        with_keyboard = [
            (message_id, message)
            for (chat, message_id), message in self._messages.items()
            if chat == chat_id and message.get("reply_markup")
        ]
        if not with_keyboard:
            return 0, []
        message_id, message = max(with_keyboard, key=lambda item: item[0])
        rows = message["reply_markup"].get("inline_keyboard", [])
        return message_id, [b.get("callback_data", "") for row in rows for b in row]

    def _chat(self, chat_id: int) -> JSON:
        """A Chat object for an id, as known from earlier updates or guessed from its sign."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    async def _wait_change(self, seconds: float) -> None:
        """Sleep until the next state change or for the given seconds, whichever is first."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), seconds)

    def _notify(self) -> None:
        """Wake everyone waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()
