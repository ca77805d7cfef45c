"""What handlers say and show, without any wording: message keys, replies and buttons.

Handlers return `Reply` objects whose text is a `Msg` (a catalog key plus values); the bot
renders it in the reader's language at the edge, so no Chinese sentence is built in code.
"""

from dataclasses import dataclass
from typing import Any

from handlers.core.incoming import Attachment


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


class Secret:
    """A value that must not rest in clear (an invite or sign-in code): shown as itself when
    rendered, but sealed with the SecretBox while its message waits in the outbox and erased
    there once it is sent (handlers/core/notify.py, storage/outbox.py). Its repr hides it, so a
    logged Msg does not leak it either."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return "Secret(***)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


@dataclass(frozen=True)
class Button:
    """An inline button; pressing it sends `data` back as if it were typed (a command line)."""

    label: Msg
    data: str
    # A link button instead (opens the bot's private chat, a page): `data` is then unused.
    url: str | None = None


@dataclass(frozen=True)
class PaperTable:
    """A table of a paper: its column headings, and rows of values (Msgs, text, numbers)."""

    headers: tuple[Msg, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class PaperPart:
    """A titled part of a paper: lines, then a table if it has one."""

    title: Msg
    lines: tuple[Msg, ...] = ()
    table: PaperTable | None = None


@dataclass(frozen=True)
class Paper:
    """A document described in Msgs, for the edge to write (as PDF, or as a sheet of a
    workbook) in the reader's language: handlers render no words, so they cannot write a
    readable file themselves. The watermark goes on every page."""

    title: Msg
    intro: tuple[Msg, ...]  # lines under the title
    parts: tuple[PaperPart, ...]
    watermark: Msg


@dataclass(frozen=True)
class FileOut:
    name: str
    content: bytes
    mime: str = "application/octet-stream"
    # A file the edge writes from this paper (bot/app/services.py Services.answer): `content`
    # is empty until then.
    paper: Paper | None = None


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
    # Goes to this chat (the sender's private chat, on the same platform) instead of the one
    # the message came from: a personal answer to a command sent in a group.
    chat: str | None = None
    # Shown as the answer to the button press (a short notice on the pressing user's screen),
    # not as a message in the chat; with `link`, pressing opens it (the bot's private chat).
    toast: bool = False
    link: str | None = None
    # A queued edit: the platform message (by its id) this one replaces in place.
    replaces: str | None = None


class UserError(Exception):
    """A problem the user can fix; its message key is what they are told."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.msg = Msg(key, **params)


class Refused(UserError):
    """The caller may not do this (not bound, not their role, chat or record): a refusal,
    not a mistake in what they typed (the service's metrics count the two apart)."""


class RecordedRefusal(Refused):
    """A refusal whose traces are kept: the attempt itself is worth recording."""


class Denied(Refused):
    """A protected record asked for that the caller may not see, or that does not exist.

    Both get the same "not found" answer, so numbers cannot be probed; the router rolls the
    handler's work back and then traces the attempt (access.refused) with the update's
    record, so every refusal is on file and the access rules see probing. `target` names
    what was asked ("thought:12", "member:#5"); the reason is "scope" when the record
    exists and "missing" when it does not (kept for the auditor, never told to the user)."""

    def __init__(self, key: str, *, target: str, exists: bool, **params: Any) -> None:
        super().__init__(key, **params)
        self.target = target
        self.reason = "scope" if exists else "missing"
