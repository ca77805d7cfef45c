"""Update builders of the fake Telegram server: the push_* methods and the update queue.

Queued updates are answered by getUpdates or delivered to the webhook.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support.fake_telegram.api import JSON
from tests.support.fake_telegram.state import FakeState


class UpdatesMixin(FakeState):
    """Builders that queue user updates for the bot."""

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
        content: bytes | None = None,
    ) -> int:
        """Queue a document upload from a user; returns its update_id. With `content`, the
        file's bytes can be fetched back (getFile) and its size is theirs."""
        user = self._sender(user_id)
        number = next(self._file_ids)
        if content is not None:
            self.files[f"document{number}"] = content
            file_size = len(content)
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
