"""The Bot API wire format of the fake: constants, the Call record and ApiError.

Also the helpers that decode request parameters and shape answers.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

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
KICKED = "Forbidden: bot was kicked from the group chat"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
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
    result: Any = None  # what was answered (the Message of a send or an edit)


class ApiError(Exception):
    """A Bot API error answer, raised by the method implementations."""

    def __init__(
        self,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to: int | None = None,
    ) -> None:
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        self.status = int(status)
        self.retry_after = retry_after
        self.migrate_to = migrate_to
        self.description = description or default_description(status, retry_after)
        super().__init__(self.description)

    def body(self) -> JSON:
        """The JSON body Telegram answers with."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to}
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
