"""The Bot API method handlers of the fake Telegram server.

Each handler takes a recorded Call and returns the result or raises ApiError.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from tests.support.fake_telegram.api import (
    EDIT_NOT_FOUND,
    JSON,
    MAX_CAPTION,
    MAX_TEXT,
    NOT_MODIFIED,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    ApiError,
    Call,
    as_float,
    as_int,
    inline_markup,
    visible_length,
)
from tests.support.fake_telegram.state import FakeState


class MethodsMixin(FakeState):
    """The Bot API methods the fake serves."""

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
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._return_true,
            "logOut": self._return_true,
        }

    async def _get_file(self, call: Call) -> JSON:
        """A File for a document a user sent with content; its bytes are at /file/bot…/path."""
        file_id = str(call.params.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

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
