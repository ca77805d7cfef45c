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

    def push_group_message(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        title: str | None = None,
        first_name: str = "User",
    ) -> int | None:
        """A user's message in a group, delivered as Telegram does with the bot's privacy mode
        on: only a command, a message mentioning the bot, or a reply to one of the bot's
        messages reaches it. Returns its update_id, or None when the bot does not see it."""
        user = self._users.get(user_id) or {"id": user_id, "is_bot": False}
        user = {**user, "first_name": first_name, "language_code": "zh-hans"}
        self._users[user_id] = user
        chat = self._group(chat_id, title)
        content: JSON = {"text": text}
        replied = self._messages.get((chat_id, reply_to)) if reply_to is not None else None
        if replied is not None:
            content["reply_to_message"] = replied
        for_bot = (
            text.startswith("/")
            or f"@{self.username}".lower() in text.lower()
            or (replied is not None and replied.get("from", {}).get("id") == self.bot_id)
        )
        if not for_bot:
            return None
        return self._push_user_message(user, chat, **content)

    def push_bot_membership(
        self, user_id: int, chat_id: int, status: str, *, old: str = "left"
    ) -> int:
        """The bot's membership of a group changed (my_chat_member): "member" when a user adds
        it, "left"/"kicked" when removed (sends there then fail with 403)."""
        chat = self._group(chat_id, None)
        bot = {"user": self.bot_user}
        change = {
            "chat": chat,
            "from": self._sender(user_id),
            "date": int(time.time()),
            "old_chat_member": {**bot, "status": old},
            "new_chat_member": {**bot, "status": status, **_member_fields(status)},
        }
        if status in ("left", "kicked"):
            self._kicked.add(chat_id)
        else:
            self._kicked.discard(chat_id)
        return self._enqueue({"my_chat_member": change})

    def push_migration(self, user_id: int, old_chat_id: int, new_chat_id: int) -> tuple[int, int]:
        """A group upgraded to a supergroup: the service messages in the old chat (with
        migrate_to_chat_id) and in the new one (migrate_from_chat_id). The old id is gone."""
        user = self._sender(user_id)
        old_chat = self._group(old_chat_id, None)
        new_chat = {**old_chat, "id": new_chat_id, "type": "supergroup"}
        self._chats[new_chat_id] = new_chat
        first = self._push_user_message(user, old_chat, migrate_to_chat_id=new_chat_id)
        second = self._push_user_message(user, new_chat, migrate_from_chat_id=old_chat_id)
        self._migrated[old_chat_id] = new_chat_id  # sends there: "group chat was upgraded"
        return first, second

    def _group(self, chat_id: int, title: str | None) -> JSON:
        known = self._chats.get(chat_id)
        chat = known or self._chat(chat_id)
        if title is not None:
            chat = {**chat, "title": title}
        self._chats[chat_id] = chat
        return chat

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


def _member_fields(status: str) -> JSON:
    """What a ChatMember of this status carries besides the user (PTB needs them to parse)."""
    if status == "kicked":
        return {"until_date": 0}
    if status == "administrator":
        rights = (
            "can_be_edited can_manage_chat can_delete_messages can_manage_video_chats "
            "can_restrict_members can_promote_members can_change_info can_invite_users "
            "can_post_stories can_edit_stories can_delete_stories is_anonymous"
        )
        return dict.fromkeys(rights.split(), False)
    return {}
