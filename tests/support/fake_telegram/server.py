"""The FakeTelegram server: lifecycle, routing, call recording and waiting.

Combines the state, faults, updates, methods and webhook parts into one class.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from tests.support.fake_telegram.api import (
    CHAT_CONTENT,
    JSON,
    MAX_UPLOAD,
    NOT_FOUND,
    READ_ONLY,
    TEXT_METHODS,
    ApiError,
    Call,
    as_int,
    describe_call,
    drop_connection,
    json_body,
    read_params,
)
from tests.support.fake_telegram.faults import FaultsMixin
from tests.support.fake_telegram.methods import MethodsMixin
from tests.support.fake_telegram.updates import UpdatesMixin
from tests.support.fake_telegram.webhook import WebhookMixin


class FakeTelegram(MethodsMixin, UpdatesMixin, FaultsMixin, WebhookMixin):
    """An in-process Telegram Bot API: records calls, queues updates and injects faults.

    Not thread-safe: call push_*, fail_next and friends from the event loop the fake runs on
    (or use the /_control endpoints from another process).
    """

    @functools.cached_property
    def _methods(self) -> dict[str, tuple[str, Callable[[Call], Awaitable[Any]]]]:
        """Method handlers by lower-case name (Telegram matches method names case-insensitively)."""
        return {name.lower(): (name, handler) for name, handler in self._method_table().items()}

    # Lifecycle

    @property
    def base_url(self) -> str:
        """Where the server listens, e.g. http://127.0.0.1:40123 (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/documents/{file_id}", self._download)
        app.router.add_post("/_control/updates", self._control_updates)
        app.router.add_get("/_control/stats", self._control_stats)
        app.router.add_post("/_control/reset", self._control_reset)
        app.router.add_post("/_control/fail", self._control_fail)
        app.router.add_get("/_control/sent", self._control_sent)
        self._closing = False
        self._changed = asyncio.Event()
        self._deliveries = asyncio.Queue()
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_port = self._runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{bound_port}"
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._delivery_tasks = [
            asyncio.create_task(self._deliver_forever()) for _ in range(self.webhook_connections)
        ]

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._notify()
        for task in self._delivery_tasks:
            task.cancel()
        await asyncio.gather(*self._delivery_tasks, return_exceptions=True)
        self._delivery_tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        """Start on a free port."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    def reset(self) -> None:
        """Forget calls, queued updates, faults and blocks; ids keep increasing."""
        self.calls.clear()
        self.sent.clear()
        self.sent_by_method.clear()
        self._updates.clear()
        self._faults.clear()
        self._blocked.clear()
        self._send_times.clear()
        self._group_times.clear()
        self.webhook_deliveries.clear()
        self.rejected_429 = 0
        self._notify()

    # Inspection and waiting

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages, photos, documents and text edits sent to one chat."""
        wanted = int(chat_id)
        return [
            call
            for call in self.sent
            if call.method in CHAT_CONTENT and as_int(call.params.get("chat_id")) == wanted
        ]

    @staticmethod
    def message_id_of(call: Call) -> int:
        """The id of the message a send (or edit) call made, as a user would reply to it."""
        assert isinstance(call.result, dict), call
        return int(call.result["message_id"])

    def texts_to(self, chat_id: int) -> list[str]:
        """Texts (and captions of photos and documents) sent to one chat, in order."""
        texts: list[str] = []
        for call in self.sent_to(chat_id):
            key = "text" if call.method in TEXT_METHODS else "caption"
            if call.params.get(key) is not None:
                texts.append(str(call.params[key]))
        return texts

    def count(self, method: str, *, sent_only: bool = False) -> int:
        """How many calls of a method arrived (or, with sent_only, succeeded)."""
        calls = self.sent if sent_only else self.calls
        return sum(1 for call in calls if call.method == method)

    @property
    def queued(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return list(self._updates)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 (part of the agreed API)
    ) -> None:
        """Wait until the predicate holds, re-checking whenever the fake's state changes."""
        if not await self._wait(predicate, timeout):
            raise AssertionError(
                f"condition not met within {timeout}s; {self._describe_activity()}"
            )

    async def wait_for_sent(
        self,
        n: int,
        timeout: float = 10.0,  # noqa: ASYNC109 (part of the agreed API)
        method: str | None = None,
    ) -> None:
        """Wait until at least n calls (optionally of one method) were sent successfully."""

        def sent_count() -> int:
            """The number of matching sent calls."""
            return sum(1 for call in self.sent if method is None or call.method == method)

        if not await self._wait(lambda: sent_count() >= n, timeout):
            raise AssertionError(
                f"expected at least {n} sent {method or 'calls'} within {timeout}s, "
                f"got {sent_count()}; {self._describe_activity()}"
            )

    async def _wait(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Whether the predicate became true within the given seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self._wait_change(remaining)
        return True

    def _describe_activity(self) -> str:
        """What was sent and which calls arrived, for assertion messages."""
        sent = [describe_call(call) for call in self.sent[-20:]]
        arrived = Counter(f"{call.method}:{call.status}" for call in self.calls)
        return f"sent (last 20): {sent}; calls by method:status: {dict(arrived)}"

    # HTTP handling

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Answer one Bot API call: check the token, record it, apply faults, dispatch."""
        if request.match_info["token"] != self.token:
            return web.json_response(
                ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized").body(),
                status=HTTPStatus.UNAUTHORIZED,
            )
        params, files = await read_params(request)
        name = request.match_info["method"]
        method, handler = self._methods.get(name.lower(), (name, None))
        call = Call(method, params, files)
        self.calls.append(call)
        self._notify()
        fault = self._take_fault(method) if handler is not None else None
        if fault is not None and fault.status is None:
            return drop_connection(request)
        try:
            if handler is None:
                raise ApiError(HTTPStatus.NOT_FOUND, NOT_FOUND)
            if fault is not None and fault.status is not None:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            self._check_blocked(call)
            self._check_rate(call)
            self._check_group_rate(call)
            result = await handler(call)
        except ApiError as error:
            return self._answer_error(call, error)
        call.status = HTTPStatus.OK
        call.result = result
        if method not in READ_ONLY:
            self.sent.append(call)
            self.sent_by_method[method] += 1
        self._notify()
        return web.json_response({"ok": True, "result": result})

    def _answer_error(self, call: Call, error: ApiError) -> web.Response:
        """Record and send an error answer."""
        call.status = error.status
        if error.status == HTTPStatus.TOO_MANY_REQUESTS:
            self.rejected_429 += 1
        self._notify()
        return web.json_response(error.body(), status=error.status)

    async def _download(self, request: web.Request) -> web.Response:
        """A file's bytes, as Telegram's file server gives them after getFile."""
        content = self.files.get(request.match_info["file_id"])
        if request.match_info["token"] != self.token or content is None:
            return web.Response(status=404)
        return web.Response(body=content)

    async def _control_updates(self, request: web.Request) -> web.Response:
        """POST /_control/updates: queue a JSON list of raw updates."""
        body = await json_body(request)
        updates = body if isinstance(body, list) else [body]
        if not all(isinstance(update, dict) for update in updates):
            return web.json_response(
                {"ok": False, "description": "expected update objects"}, status=400
            )
        for update in updates:
            self.push_raw(update)
        return web.json_response({"ok": True, "queued": len(updates)})

    async def _control_stats(self, request: web.Request) -> web.Response:
        """GET /_control/stats: counts of what was sent, rejected and queued."""
        return web.json_response(self.stats())

    def stats(self) -> JSON:
        """Counts of sent calls per method, totals, 429 rejections and queued updates."""
        return {
            "ok": True,
            "sent": dict(self.sent_by_method),
            "total_sent": len(self.sent),
            "total_calls": len(self.calls),
            "rejected_429": self.rejected_429,
            "queued": len(self._updates),
            "webhook_deliveries": len(self.webhook_deliveries),
        }

    async def _control_sent(self, request: web.Request) -> web.Response:
        """GET /_control/sent?method=sendMessage: each sent call's chat and time.monotonic()
        (system-wide on Linux, so another process can measure latency against it)."""
        method = request.query.get("method", "sendMessage")
        sent = [
            {"chat_id": as_int(call.params.get("chat_id")), "at": call.at}
            for call in self.sent
            if call.method == method
        ]
        return web.json_response({"ok": True, "sent": sent})

    async def _control_reset(self, request: web.Request) -> web.Response:
        """POST /_control/reset: forget calls, queue and faults."""
        self.reset()
        return web.json_response({"ok": True})

    async def _control_fail(self, request: web.Request) -> web.Response:
        """POST /_control/fail: {method, status, retry_after?, times?, description?, drop?}.

        A missing status, status 0 or drop=true closes the connection instead of answering.
        """
        spec = await json_body(request)
        if not isinstance(spec, dict) or "method" not in spec:
            raise web.HTTPBadRequest(text="expected {method, status, ...}")
        times = int(spec.get("times", 1))
        if spec.get("drop") or not spec.get("status"):
            self.drop_next(str(spec["method"]), times)
        else:
            retry_after = spec.get("retry_after")
            self.fail_next(
                str(spec["method"]),
                int(spec["status"]),
                retry_after=None if retry_after is None else int(retry_after),
                description=spec.get("description"),
                times=times,
            )
        return web.json_response({"ok": True})
