"""Concurrent update processing that keeps each chat's updates in order.

Different people are served in parallel; one person's messages are handled one after another,
so `/start` is done before the next line they typed (PTB's own concurrency gives no order).
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        # PTB takes its slot before we see the update; a chat's queued updates would hold
        # those slots while they wait their turn. So PTB's bound is loose and ours counts
        # only updates that are actually running.
        super().__init__(max(1024, max_concurrent_updates))
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update after earlier ones of the same chat."""
        key = self._key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle chats so the table stays small
                del self._waiting[key], self._locks[key]

    @staticmethod
    def _key(update: object) -> int | None:
        if isinstance(update, Update) and update.effective_chat is not None:
            return update.effective_chat.id
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
