"""Fault injection for the fake Telegram server: errors, dropped connections, blocks.

Also enforces the optional global rate limit on send* calls.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus

from tests.support.fake_telegram.api import (
    BLOCKABLE,
    BLOCKED,
    KICKED,
    UPGRADED,
    ApiError,
    Call,
    as_int,
)
from tests.support.fake_telegram.state import FakeState


@dataclass
class _Fault:
    """An injected failure waiting for the next calls of one method."""

    method: str
    status: int | None  # None closes the connection without any response
    retry_after: int | None = None
    description: str | None = None
    times: int = 1


class FaultsMixin(FakeState):
    """Injected failures, blocked chats and rate enforcement."""

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of a method with an error status."""
        self._faults.append(_Fault(method, status, retry_after, description, times))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection without any response on the next `times` calls of a method."""
        self._faults.append(_Fault(method, None, times=times))

    def block(self, chat_id: int) -> None:
        """Make every send to the chat fail with 403, as when a user blocks the bot."""
        self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        """Undo block()."""
        self._blocked.discard(int(chat_id))

    def _take_fault(self, method: str) -> _Fault | None:
        """Consume one pending fault for the method, if any."""
        for fault in self._faults:
            if fault.method.lower() == method.lower():
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _check_blocked(self, call: Call) -> None:
        """Refuse sends to a chat that blocked the bot, or to a group it was removed from."""
        if call.method not in BLOCKABLE:
            return
        chat_id = as_int(call.params.get("chat_id"))
        if chat_id in self._blocked:
            raise ApiError(HTTPStatus.FORBIDDEN, BLOCKED)
        if chat_id in self._kicked:
            raise ApiError(HTTPStatus.FORBIDDEN, KICKED)
        if chat_id in self._migrated:
            raise ApiError(HTTPStatus.BAD_REQUEST, UPGRADED, migrate_to=self._migrated[chat_id])

    def _check_group_rate(self, call: Call) -> None:
        """At most group_rate messages a minute to one group. Edits are counted too: Telegram
        documents the limit for messages, and edits in a group are throttled alike in
        practice, so the fake is strict where the documentation is vague."""
        chat_id = as_int(call.params.get("chat_id"))
        if self.group_rate is None or chat_id is None or chat_id >= 0:
            return
        if not (call.method.startswith("send") or call.method.startswith("edit")):
            return
        now = time.monotonic()
        times = self._group_times.setdefault(chat_id, deque())
        while times and times[0] <= now - 60.0:
            times.popleft()
        if len(times) >= self.group_rate:
            raise ApiError(HTTPStatus.TOO_MANY_REQUESTS, retry_after=int(times[0] + 60 - now) + 1)
        times.append(now)

    def _check_rate(self, call: Call) -> None:
        """Enforce global_rate send* calls per rolling second."""
        if self.global_rate is None or not call.method.startswith("send"):
            return
        now = time.monotonic()
        while self._send_times and self._send_times[0] <= now - 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.global_rate:
            raise ApiError(HTTPStatus.TOO_MANY_REQUESTS, retry_after=1)
        self._send_times.append(now)
