"""What handlers say and show, without any wording: message keys, replies and buttons.

Handlers return `Reply` objects whose text is a `Msg` (a catalog key plus values); the bot
renders it in the reader's language at the edge, so no Chinese sentence is built in code.
"""

from dataclasses import dataclass
from typing import Any

from handlers.incoming import Attachment


class Msg:
    """A message-catalog key with the values its text needs; values may be Msgs or lists."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash(self.key)


class Series(tuple[Any, ...]):
    """Values shown on one line, joined by the reader's list separator (、 in Chinese, a
    comma in English); a plain list is shown one item per line instead."""

    __slots__ = ()


@dataclass(frozen=True)
class Button:
    """An inline button; pressing it sends `data` back as if it were typed (a command line)."""

    label: Msg
    data: str


@dataclass(frozen=True)
class FileOut:
    name: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """One message: text, and optionally buttons, an image, a file or a forwarded attachment."""

    text: Msg | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: bytes | None = None
    file: FileOut | None = None
    # A document or photo a user sent earlier, sent on by the platform's handle to it.
    forward: Attachment | None = None
    # Replace the message whose button was pressed instead of sending a new one.
    edit: bool = False
    # The sender's role changed (e.g. just bound): adapters refresh their command menu.
    menu_role: str | None = None


class UserError(Exception):
    """A problem the user can fix; its message key is what they are told."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.msg = Msg(key, **params)


class RecordedRefusal(UserError):
    """A refusal whose traces are kept: the attempt itself is worth recording."""
