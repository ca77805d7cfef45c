"""What an adapter hands to the core: one platform-neutral incoming message or button press."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Attachment:
    """A file or photo the user sent; `file_id` is the platform's handle to fetch it later."""

    kind: str  # "document" or "photo"
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


# What an adapter may report of a group chat: the bot was added, removed, or the chat moved to
# a new id; "group_reply" is a reply to one of the bot's group posts (a code, 接龙 +1).
BOT_ADDED = "bot_added"
BOT_REMOVED = "bot_removed"
CHAT_MIGRATED = "chat_migrated"
GROUP_REPLY = "group_reply"


@dataclass(frozen=True)
class Incoming:
    platform: str  # "telegram", "wecom", "console"
    account_id: str  # the sender's id on that platform
    chat_id: str  # where replies go
    text: str = ""
    callback_data: str | None = None
    update_key: str | None = None  # unique per platform update; None: no de-duplication
    chat_type: str = "private"  # "private" or "group"
    display_name: str | None = None
    location: Location | None = None
    attachments: tuple[Attachment, ...] = ()
    # In a group: the message was meant for the bot (a command, a mention of it, or a reply
    # to one of its messages); other group chatter is not read.
    addressed: bool = False
    # In a group: the bot's message this one answers (its platform message id).
    reply_to: str | None = None
    chat_title: str | None = None
    # Something that happened to a chat rather than a message (GROUP_EVENTS), with the chat's
    # new id when it moved (a Telegram group upgraded to a supergroup).
    event: str | None = None
    new_chat_id: str | None = None

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"
