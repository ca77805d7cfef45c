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

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"
