"""Telegram updates in, platform-neutral Incoming out."""

import re
from dataclasses import replace

from telegram import Message, Update

from handlers.core.incoming import (
    BOT_ADDED,
    BOT_REMOVED,
    CHAT_MIGRATED,
    Attachment,
    Incoming,
    Location,
)

PLATFORM = "telegram"
_ADDRESSED = re.compile(r"^/[A-Za-z0-9_]+@([A-Za-z0-9_]+)")


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if message.document is not None:
        doc = message.document
        found.append(
            Attachment("document", doc.file_id, doc.file_name, doc.mime_type, doc.file_size)
        )
    if message.photo:
        largest = message.photo[-1]
        found.append(Attachment("photo", largest.file_id, None, "image/jpeg", largest.file_size))
    return tuple(found)


def addressed_elsewhere(text: str, username: str | None) -> bool:
    """`/help@OtherBot` in a group with several bots is not for us."""
    match = _ADDRESSED.match(text)
    return bool(match and username and match.group(1).lower() != username.lower())


def _mention_removed(text: str, username: str | None) -> str | None:
    """The text without a leading @mention of the bot; None when it does not start with one."""
    if not username or not text.lower().startswith(f"@{username.lower()}"):
        return None
    return text[len(username) + 1 :].lstrip()


def _chat_event(update: Update, base: Incoming) -> Incoming | None:
    """The bot added to or removed from a group (my_chat_member), or the group upgraded to a
    supergroup under a new id (migrate_to_chat_id)."""
    change = update.my_chat_member
    if change is not None:
        gone = change.new_chat_member.status in ("left", "kicked")
        was_in = change.old_chat_member.status not in ("left", "kicked")
        if gone:
            return replace(base, event=BOT_REMOVED)
        return None if was_in else replace(base, event=BOT_ADDED)
    message = update.message
    if message is not None and message.migrate_to_chat_id is not None:
        return replace(base, event=CHAT_MIGRATED, new_chat_id=str(message.migrate_to_chat_id))
    if message is not None and message.migrate_from_chat_id is not None:
        # The same move seen from the new chat, so it is handled before that chat's next
        # message (updates are ordered per chat): told as the old chat's move.
        old = str(message.migrate_from_chat_id)
        return replace(base, chat_id=old, event=CHAT_MIGRATED, new_chat_id=base.chat_id)
    return None


def to_incoming(update: Update, bot_id: int, username: str | None = None) -> Incoming | None:
    """The update as an Incoming; None for kinds the bot ignores (edits, channel posts,
    commands addressed to another bot)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    private = chat.type == "private"
    base = Incoming(
        platform=PLATFORM,
        account_id=str(user.id),
        chat_id=str(chat.id),
        update_key=f"{bot_id}:{update.update_id}",
        chat_type="private" if private else "group",
        display_name=user.full_name,
        chat_title=None if private else chat.title,
    )
    if not private and (event := _chat_event(update, base)) is not None:
        return event
    if update.callback_query is not None:
        return replace(base, callback_data=update.callback_query.data or "")
    message = update.message
    if message is None or addressed_elsewhere(message.text or "", username):
        return None
    text = message.text or message.caption or ""
    location = None
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    reply_to = None
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        reply_to = str(replied.message_id)
    unmentioned = None if private else _mention_removed(text, username)
    return replace(
        base,
        text=unmentioned if unmentioned is not None else text,
        location=location,
        attachments=_attachments(message),
        addressed=private or text.startswith("/") or unmentioned is not None or bool(reply_to),
        reply_to=reply_to,
    )
