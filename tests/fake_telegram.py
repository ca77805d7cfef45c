"""A fake Telegram Bot API server on aiohttp that the real python-telegram-bot talks to over HTTP.

Used by the end-to-end tests and by benchmark scripts (standalone: python -m tests.fake_telegram).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import mimetypes
import re
import signal
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

JSON = dict[str, Any]
Files = dict[str, tuple[str, bytes]]

# Parameters PTB sends as raw strings that could look like JSON (a text of "42" stays "42").
STRING_FIELDS = frozenset(
    {"text", "caption", "secret_token", "url", "callback_query_id", "data", "query"}
    | {"inline_message_id"}  # an opaque id that may consist of digits only
)
# Calls that only read state; they never count as sent.
READ_ONLY = frozenset({"getUpdates", "getMe", "getWebhookInfo"})
# Calls that put content into a chat; sent_to() and texts_to() look at these.
CHAT_CONTENT = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})
TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
# Calls that fail with 403 while the chat has blocked the bot.
BLOCKABLE = CHAT_CONTENT | {"editMessageReplyMarkup"}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD = 50 * 1024 * 1024
NOT_FOUND = "Not Found: method not found"
BLOCKED = "Forbidden: bot was blocked by the user"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_HTML_TAG = re.compile(r"<[^>]+>")


@dataclass
class Call:
    """One Bot API request as the fake received it."""

    method: str
    params: dict[str, Any]
    files: Files = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int = 0  # HTTP status answered; 0 while pending or when the connection was dropped


@dataclass
class _Fault:
    """An injected failure waiting for the next calls of one method."""

    method: str
    status: int | None  # None closes the connection without any response
    retry_after: int | None = None
    description: str | None = None
    times: int = 1


class ApiError(Exception):
    """A Bot API error answer, raised by the method implementations."""

    def __init__(
        self, status: int, description: str | None = None, retry_after: int | None = None
    ) -> None:
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        self.status = int(status)
        self.retry_after = retry_after
        self.description = description or default_description(status, retry_after)
        super().__init__(self.description)

    def body(self) -> JSON:
        """The JSON body Telegram answers with."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(status: int, retry_after: int | None = None) -> str:
    """Telegram's wording for an error status."""
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def decode_param(name: str, value: str) -> Any:
    """Undo PTB's encoding: non-string values arrive JSON-encoded, strings arrive raw."""
    if name in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def as_int(value: Any) -> int | None:
    """The value as an int, or None when it is not one (e.g. "@channelname")."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_float(value: Any, default: float) -> float:
    """The value as a float, or the default when it is missing or malformed."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def visible_length(text: str, parse_mode: Any) -> int:
    """Length in UTF-16 code units as Telegram counts it, HTML markup removed."""
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        text = html.unescape(_HTML_TAG.sub("", text))
    return len(text.encode("utf-16-le")) // 2


def inline_markup(params: dict[str, Any]) -> JSON | None:
    """The inline keyboard of a call; Telegram echoes only inline keyboards in a Message."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


async def read_params(request: web.Request) -> tuple[dict[str, Any], Files]:
    """The decoded parameters and uploaded files of a Bot API request."""
    if request.method == "GET":
        return {key: decode_param(key, value) for key, value in request.query.items()}, {}
    if request.content_type == "application/json":
        body = await request.json()
        return (body if isinstance(body, dict) else {}), {}
    params: dict[str, Any] = {}
    files: Files = {}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read())
        elif isinstance(value, str):
            params[key] = decode_param(key, value)
        else:
            params[key] = decode_param(key, bytes(value).decode())
    return params, files


async def json_body(request: web.Request) -> Any:
    """The JSON body of a control request; 400 when it is not JSON."""
    try:
        return await request.json()
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"invalid JSON: {error}") from error


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket so the client sees a disconnect without any response."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)  # never reaches the client


def describe_call(call: Call) -> str:
    """A short human-readable summary of a call for assertion messages."""
    content = call.params.get("text", call.params.get("caption", ""))
    shown = f" {str(content)[:60]!r}" if content else ""
    return f"{call.method}(chat_id={call.params.get('chat_id')}){shown}"


class FakeTelegram:
    """An in-process Telegram Bot API: records calls, queues updates and injects faults.

    Not thread-safe: call push_*, fail_next and friends from the event loop the fake runs on
    (or use the /_control endpoints from another process).
    """

    WEBHOOK_RETRIES = 3
    WEBHOOK_RETRY_PAUSE = 0.2

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_id: int = 123456,
        username: str = "branchbot_test_bot",
        *,
        global_rate: float | None = None,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.global_rate = global_rate
        self.calls: list[Call] = []
        self.sent: list[Call] = []
        self.rejected_429 = 0
        self.webhook_deliveries: list[int] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._webhook_options: JSON = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
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
        self._delivery_task: asyncio.Task[None] | None = None
        self._session: ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._methods: dict[str, tuple[str, Callable[[Call], Awaitable[Any]]]] = {
            name.lower(): (name, handler) for name, handler in self._method_table().items()
        }

    def _method_table(self) -> dict[str, Callable[[Call], Awaitable[Any]]]:
        """The Bot API methods this fake serves."""
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._return_true,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._return_true,
            "logOut": self._return_true,
        }

    # Lifecycle

    @property
    def base_url(self) -> str:
        """Where the server listens, e.g. http://127.0.0.1:40123 (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

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

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port; port 0 picks a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_post("/_control/updates", self._control_updates)
        app.router.add_get("/_control/stats", self._control_stats)
        app.router.add_post("/_control/reset", self._control_reset)
        app.router.add_post("/_control/fail", self._control_fail)
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
        self._delivery_task = asyncio.create_task(self._deliver_forever())

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._notify()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
            self._delivery_task = None
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
        self._updates.clear()
        self._faults.clear()
        self._blocked.clear()
        self._send_times.clear()
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

    async def _wait_change(self, seconds: float) -> None:
        """Sleep until the next state change or for the given seconds, whichever is first."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), seconds)

    def _notify(self) -> None:
        """Wake everyone waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _describe_activity(self) -> str:
        """What was sent and which calls arrived, for assertion messages."""
        sent = [describe_call(call) for call in self.sent[-20:]]
        arrived = Counter(f"{call.method}:{call.status}" for call in self.calls)
        return f"sent (last 20): {sent}; calls by method:status: {dict(arrived)}"

    # Fault injection

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
        """Refuse sends to a chat that blocked the bot."""
        if call.method in BLOCKABLE and as_int(call.params.get("chat_id")) in self._blocked:
            raise ApiError(HTTPStatus.FORBIDDEN, BLOCKED)

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

    # Update builders

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "User",
        username: str | None = None,
        language_code: str = "zh-hans",
    ) -> int:
        """Queue a text message from a user; returns its update_id."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        user["language_code"] = language_code
        self._users[user_id] = user
        if chat_type == "private":
            chat = self._private_chat(user)
        elif chat_id is None:
            raise ValueError(f"a {chat_type} message needs a chat_id")
        else:
            chat = {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}
            self._chats[chat_id] = chat
        return self._push_user_message(user, chat, text=text)

    def push_callback(
        self, user_id: int, data: str, *, message_id: int, chat_id: int | None = None
    ) -> int:
        """Queue an inline-button press on a message; returns its update_id."""
        user = self._sender(user_id)
        target = user_id if chat_id is None else chat_id
        message = self._messages.get((target, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(target),
            "from": self.bot_user,
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": user,
            "chat_instance": f"instance{target}",
            "data": data,
            "message": message,
        }
        return self._enqueue({"callback_query": query})

    def push_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> int:
        """Queue a shared location from a user; returns its update_id."""
        user = self._sender(user_id)
        location = {"latitude": latitude, "longitude": longitude}
        return self._push_user_message(user, self._chat_of(user, chat_id), location=location)

    def push_document(
        self,
        user_id: int,
        file_name: str,
        mime_type: str = "application/pdf",
        file_size: int = 1000,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> int:
        """Queue a document upload from a user; returns its update_id."""
        user = self._sender(user_id)
        number = next(self._file_ids)
        document = {
            "file_id": f"document{number}",
            "file_unique_id": f"udocument{number}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._push_user_message(user, self._chat_of(user, chat_id), **content)

    def push_raw(self, update: JSON) -> int:
        """Queue an update as given, assigning an update_id when it has none."""
        return self._enqueue(dict(update))

    def _sender(self, user_id: int) -> JSON:
        """The user as last seen in push_message, or a default one."""
        return self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}

    def _private_chat(self, user: JSON) -> JSON:
        """The private chat with a user."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        self._chats[user["id"]] = chat
        return chat

    def _chat_of(self, user: JSON, chat_id: int | None) -> JSON:
        """The chat a user writes in: the private one unless another chat is named."""
        if chat_id is None or chat_id == user["id"]:
            return self._private_chat(user)
        return self._chat(chat_id)

    def _chat(self, chat_id: int) -> JSON:
        """A Chat object for an id, as known from earlier updates or guessed from its sign."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _push_user_message(self, user: JSON, chat: JSON, **content: Any) -> int:
        """Queue a message update from a user."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **content,
        }
        return self._enqueue({"message": message})

    def _enqueue(self, update: JSON) -> int:
        """Queue an update for getUpdates and, while a webhook is set, deliver it."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(update)
        if self.webhook_url is not None and self._deliveries is not None:
            self._deliveries.put_nowait(update_id)
        self._notify()
        return update_id

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
            result = await handler(call)
        except ApiError as error:
            return self._answer_error(call, error)
        call.status = HTTPStatus.OK
        if method not in READ_ONLY:
            self.sent.append(call)
        self._notify()
        return web.json_response({"ok": True, "result": result})

    def _answer_error(self, call: Call, error: ApiError) -> web.Response:
        """Record and send an error answer."""
        call.status = error.status
        if error.status == HTTPStatus.TOO_MANY_REQUESTS:
            self.rejected_429 += 1
        self._notify()
        return web.json_response(error.body(), status=error.status)

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
            "sent": dict(Counter(call.method for call in self.sent)),
            "total_sent": len(self.sent),
            "total_calls": len(self.calls),
            "rejected_429": self.rejected_429,
            "queued": len(self._updates),
            "webhook_deliveries": len(self.webhook_deliveries),
        }

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

    # Bot API methods

    async def _return_true(self, call: Call) -> bool:
        """Methods whose only answer is True."""
        return True

    async def _get_me(self, call: Call) -> JSON:
        """getMe: the bot user."""
        return self.bot_user

    async def _get_updates(self, call: Call) -> list[JSON]:
        """getUpdates: confirm by offset, then answer or long-poll up to `timeout` seconds."""
        if self.webhook_url is not None:
            raise ApiError(HTTPStatus.CONFLICT, WEBHOOK_CONFLICT)
        offset = as_int(call.params.get("offset")) or 0
        limit = min(max(as_int(call.params.get("limit")) or 100, 1), 100)
        timeout = max(as_float(call.params.get("timeout"), 0.0), 0.0)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll wakes up and ends with 409, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(HTTPStatus.CONFLICT, POLL_CONFLICT)
            ready = [update for update in self._updates if update["update_id"] >= offset]
            if ready or self._closing or self.webhook_url is not None:
                return ready[:limit]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates below a positive offset, or all but the last -offset ones."""
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    async def _set_webhook(self, call: Call) -> bool:
        """setWebhook: remember url and secret; pending updates go to the webhook."""
        url = str(call.params.get("url") or "")
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            return await self._delete_webhook(call)
        secret = call.params.get("secret_token")
        self.webhook_url = url
        self.webhook_secret = None if secret is None else str(secret)
        self._webhook_options = {
            key: call.params[key]
            for key in ("max_connections", "allowed_updates")
            if key in call.params
        }
        if self._deliveries is not None:
            for update in self._updates:
                self._deliveries.put_nowait(update["update_id"])
        self._notify()
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        """deleteWebhook: back to getUpdates, optionally dropping the queue."""
        self.webhook_url = None
        self.webhook_secret = None
        self._webhook_options = {}
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    async def _get_webhook_info(self, call: Call) -> JSON:
        """getWebhookInfo: the current webhook and the number of pending updates."""
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            **self._webhook_options,
        }

    async def _send_message(self, call: Call) -> JSON:
        """sendMessage: a new text message from the bot."""
        text = self._checked_text(call)
        return self._new_bot_message(call, text=text)

    async def _send_photo(self, call: Call) -> JSON:
        """sendPhoto: a new photo message from the bot."""
        size = self._upload_size(call, "photo")
        number = next(self._file_ids)
        photo = {
            "file_id": f"photo{number}",
            "file_unique_id": f"uphoto{number}",
            "width": 800,
            "height": 600,
            "file_size": size,
        }
        return self._new_bot_message(call, photo=[photo], **self._caption(call))

    async def _send_document(self, call: Call) -> JSON:
        """sendDocument: a new document message from the bot."""
        size = self._upload_size(call, "document")
        number = next(self._file_ids)
        file_name = call.files["document"][0] if "document" in call.files else f"file{number}"
        document = {
            "file_id": f"document{number}",
            "file_unique_id": f"udocument{number}",
            "file_name": file_name,
            "mime_type": mimetypes.guess_type(file_name)[0] or "application/octet-stream",
            "file_size": size,
        }
        return self._new_bot_message(call, document=document, **self._caption(call))

    async def _edit_message_text(self, call: Call) -> JSON | bool:
        """editMessageText: replace the text (and inline keyboard) of a sent message."""
        if "inline_message_id" in call.params:
            return True
        old = self._message_to_edit(call)
        if "text" not in old:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: there is no text in the message")
        text = self._checked_text(call)
        markup = inline_markup(call.params)
        if old["text"] == text and old.get("reply_markup") == markup:
            raise ApiError(HTTPStatus.BAD_REQUEST, NOT_MODIFIED)
        return self._store_edit(old, markup, text=text)

    async def _edit_message_reply_markup(self, call: Call) -> JSON | bool:
        """editMessageReplyMarkup: replace or remove the inline keyboard of a sent message."""
        if "inline_message_id" in call.params:
            return True
        old = self._message_to_edit(call)
        markup = inline_markup(call.params)
        if old.get("reply_markup") == markup:
            raise ApiError(HTTPStatus.BAD_REQUEST, NOT_MODIFIED)
        return self._store_edit(old, markup)

    async def _set_my_commands(self, call: Call) -> bool:
        """setMyCommands: remember the command list for a scope and language."""
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: commands must be a list")
        self._commands[self._commands_key(call)] = commands
        return True

    async def _get_my_commands(self, call: Call) -> list[JSON]:
        """getMyCommands: the command list for a scope and language."""
        return self._commands.get(self._commands_key(call), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        """deleteMyCommands: forget the command list for a scope and language."""
        self._commands.pop(self._commands_key(call), None)
        return True

    # Method helpers

    def _chat_id(self, call: Call) -> int:
        """The numeric chat_id of a call; usernames and garbage give 400 like Telegram."""
        chat_id = as_int(call.params.get("chat_id"))
        if chat_id is None:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: chat not found")
        return chat_id

    def _checked_text(self, call: Call) -> str:
        """The text parameter, checked against Telegram's emptiness and length rules."""
        text = str(call.params.get("text") or "")
        if not text.strip():
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
        if visible_length(text, call.params.get("parse_mode")) > MAX_TEXT:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message is too long")
        return text

    def _caption(self, call: Call) -> JSON:
        """The caption part of a media message, checked against Telegram's length limit."""
        caption = call.params.get("caption")
        if caption is None:
            return {}
        if visible_length(str(caption), call.params.get("parse_mode")) > MAX_CAPTION:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message caption is too long")
        return {"caption": str(caption)}

    def _upload_size(self, call: Call, field_name: str) -> int:
        """The size of an uploaded file, 1000 for a file_id or URL; 400 when there is none."""
        if field_name in call.files:
            return len(call.files[field_name][1])
        if isinstance(call.params.get(field_name), str):
            return 1000
        raise ApiError(
            HTTPStatus.BAD_REQUEST, f"Bad Request: there is no {field_name} in the request"
        )

    def _new_bot_message(self, call: Call, **content: Any) -> JSON:
        """Create, remember and return a message the bot sends."""
        chat_id = self._chat_id(call)
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            **content,
        }
        markup = inline_markup(call.params)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _message_to_edit(self, call: Call) -> JSON:
        """The remembered message a call wants to edit; 400 when unknown."""
        chat_id = as_int(call.params.get("chat_id"))
        message_id = as_int(call.params.get("message_id"))
        message = None
        if chat_id is not None and message_id is not None:
            message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(HTTPStatus.BAD_REQUEST, EDIT_NOT_FOUND)
        return message

    def _store_edit(self, old: JSON, markup: JSON | None, **changes: Any) -> JSON:
        """Remember and return the edited copy of a message; a missing markup removes it."""
        edited = {**old, **changes, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup is not None:
            edited["reply_markup"] = markup
        self._messages[(edited["chat"]["id"], edited["message_id"])] = edited
        return edited

    def _commands_key(self, call: Call) -> tuple[str, str]:
        """The (scope, language) a command list belongs to."""
        scope = call.params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(call.params.get("language_code") or "")

    # Webhook delivery

    async def _deliver_forever(self) -> None:
        """Deliver queued updates to the webhook one at a time, in order (no max_connections)."""
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the standalone server."""
    parser = argparse.ArgumentParser(description="Run a fake Telegram Bot API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--global-rate", type=float, default=None)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT or SIGTERM."""
    fake = FakeTelegram(args.token, global_rate=args.global_rate)
    await fake.start(args.host, args.port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    print(f"fake Telegram Bot API on {fake.base_url}", flush=True)
    try:
        await stopping.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of python -m tests.fake_telegram."""
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
