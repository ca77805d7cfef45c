"""Telegram updates in, platform-neutral Incoming out."""

import re
from dataclasses import replace

from telegram import Message, Update

from handlers.core.incoming import Attachment, Incoming, Location

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


def to_incoming(update: Update, bot_id: int, username: str | None = None) -> Incoming | None:
    """The update as an Incoming; None for kinds the bot ignores (edits, channel posts,
    commands addressed to another bot)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    base = Incoming(
        platform=PLATFORM,
        account_id=str(user.id),
        chat_id=str(chat.id),
        update_key=f"{bot_id}:{update.update_id}",
        chat_type="private" if chat.type == "private" else "group",
        display_name=user.full_name,
    )
    if update.callback_query is not None:
        return replace(base, callback_data=update.callback_query.data or "")
    message = update.message
    if message is None or addressed_elsewhere(message.text or "", username):
        return None
    location = None
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    return replace(
        base,
        text=message.text or message.caption or "",
        location=location,
        attachments=_attachments(message),
    )
