"""How a notice reads: its text, signature and 收到 button as recipients see it, and its
headline for lists."""

from typing import Any

from handlers.core.messages import Button, Msg, Reply
from handlers.core.payload import attachment_in
from storage.models import Notice


def excerpt(text: str, length: int = 30) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= length else line[:length] + "…"


def headline(text: str, attachment: dict[str, Any] | None, length: int = 30) -> str:
    """A notice's first line, or its file's name when it is a file alone: for lists."""
    if text.strip() or attachment is None:
        return excerpt(text, length)
    return f"📎 {attachment.get('file_name') or attachment.get('kind', '')}"


def signature(notice: Notice) -> Msg | str:
    author = notice.author
    if author.branch is None:
        return author.name
    return Msg("notice.signature", name=author.name, branch=author.branch.name)


def notice_text(notice: Notice) -> Msg:
    body: Msg | str = notice.text
    if not notice.text and notice.attachment:
        body = Msg("notice.see_file", name=notice.attachment.get("file_name") or "")
    ack = Msg("notice.ack_hint") if notice.require_ack else ""
    return Msg(
        "notice.message",
        id=notice.id,
        text=body,
        signature=signature(notice),
        at=notice.created_at,
        ack=ack,
    )


def notice_reply(notice: Notice, *, acked: bool = False, reminder: bool = False) -> Reply:
    """The notice as its recipients see it; after 收到 its button shows it was received."""
    text = Msg("notice.reminder", body=notice_text(notice)) if reminder else notice_text(notice)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if notice.require_ack:
        label = Msg("notice.acked_button" if acked else "notice.ack_button")
        data = f"/ack {notice.id}" + (" r" if reminder else "")
        buttons = ((Button(label, data),),)
    forward = attachment_in(notice.attachment) if notice.attachment else None
    return Reply(text, buttons, forward=forward)
