"""Replies as WeCom messages: text split to WeCom's byte limit, buttons as template cards
(button_interaction), and what a card click's edit becomes.

WeCom cannot show a Reply exactly as Telegram does, so the choices live here, not in
handlers: a card holds a short title, a short line and at most six short buttons; a long
text goes first as a text message and the card follows with the buttons, six to a card.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from handlers.core.i18n import Renderer
from handlers.core.messages import Button, Msg, Reply

TEXT_BYTES = 2048  # WeCom cuts text messages longer than this (UTF-8 bytes)
TITLE_CHARS = 36
SUBTITLE_CHARS = 112
BUTTON_CHARS = 10
BUTTONS_PER_CARD = 6
KEY_BYTES = 1024


def split_bytes(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """Text in pieces of at most `limit` UTF-8 bytes, cut at line breaks where possible."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode(errors="ignore"))
        at_line = text.rfind("\n", 0, cut)
        cut = at_line if at_line > 0 else cut
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def text_message(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def task_id(shows: str) -> str:
    """Unique per application, as WeCom requires; it also carries a digest of the text the
    card stands for, so a press on it tells whether an edit changes what the member sees."""
    return f"bb{_fingerprint(shows)}{secrets.token_hex(8)}"


def shows(task: str, text: str) -> bool:
    """Whether the card with this task id stands for exactly this text."""
    return task[2:18] == _fingerprint(text)


def card(title: str, subtitle: str, buttons: list[tuple[str, str]], text: str) -> dict[str, Any]:
    """A button_interaction card for the reply whose whole text is `text`; `buttons` are
    (label, key) pairs."""
    body: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": _clip(title, TITLE_CHARS)},
        "task_id": task_id(text),
        "button_list": [
            {"text": _clip(label, BUTTON_CHARS), "style": 1, "key": key} for label, key in buttons
        ],
    }
    if subtitle:
        body["sub_title_text"] = _clip(subtitle, SUBTITLE_CHARS)
    return body


@dataclass(frozen=True)
class Rendered:
    """What one Reply becomes: text pieces, then cards; media are uploaded by the sender."""

    texts: list[str]
    cards: list[dict[str, Any]]


def _buttons(reply: Reply, renderer: Renderer) -> list[tuple[str, str]]:
    flat: list[Button] = [b for row in reply.buttons for b in row]
    return [(renderer.render(b.label), b.data) for b in flat if len(b.data.encode()) <= KEY_BYTES]


def _title(first_line: str, renderer: Renderer) -> str:
    """A card's title under a text sent before it: the text's first line when it fits,
    else that line's lead-in up to its first colon or comma (📅 新会议：… → 📅 新会议), else
    a plain prompt; never a line cut off in the middle."""
    if 0 < len(first_line) <= TITLE_CHARS:
        return first_line
    lead = re.split(r"[：:，,。；;！!？?]", first_line, maxsplit=1)[0].strip()
    if lead and len(lead) <= TITLE_CHARS and lead != first_line:
        return lead
    return renderer.render(Msg("wecom.choose_above" if first_line else "wecom.choose"))


def render(reply: Reply, renderer: Renderer, text: str | None = None) -> Rendered:
    """A short text with buttons is one card; a longer one is text messages, then cards."""
    if text is None:
        text = renderer.render(reply.text) if reply.text is not None else ""
    buttons = _buttons(reply, renderer)
    if not buttons:
        return Rendered(split_bytes(text), [])
    first, _, rest = text.partition("\n")
    if len(first) <= TITLE_CHARS and len(rest) <= SUBTITLE_CHARS:
        # A card needs a title: a prompt when the text has none of its own.
        texts, title, subtitle = [], first or renderer.render(Msg("wecom.choose")), rest
    else:
        texts, title, subtitle = split_bytes(text), _title(first, renderer), ""
    more = renderer.render(Msg("wecom.more_buttons"))
    cards = [
        card(title, subtitle, buttons[:BUTTONS_PER_CARD], text),
        *(
            card(more, "", buttons[i : i + BUTTONS_PER_CARD], text)
            for i in range(BUTTONS_PER_CARD, len(buttons), BUTTONS_PER_CARD)
        ),
    ]
    return Rendered(texts, cards)


def group_texts(reply: Reply, renderer: Renderer) -> list[str]:
    """A reply for a group chat (an application chat or a group robot), where WeCom shows no
    cards: its text, then a line pointing to the application's private chat for the buttons
    (a member's 收到 counts for that member only there), and link buttons as their address."""
    text = renderer.render(reply.text) if reply.text is not None else ""
    flat = [b for row in reply.buttons for b in row]
    lines = [
        renderer.render(Msg("wecom.group_link", label=b.label, url=b.url))
        for b in flat
        if b.url is not None
    ]
    # A button that stands for a command (/ack 12) can be typed there too.
    pressed = [
        Msg("wecom.group_command", label=b.label, command=b.data)
        if b.data.startswith("/")
        else Msg("wecom.group_press", label=b.label)
        for b in flat
        if b.url is None
    ]
    if pressed:
        shown = "、".join(renderer.render(m) for m in pressed)
        lines.append(renderer.render(Msg("wecom.group_buttons", buttons=shown)))
    return split_bytes("\n".join([text, *lines]) if text else "\n".join(lines))


@dataclass(frozen=True)
class CardUpdate:
    """How a clicked card shows an edit: `change` for update_template_card, then `texts`
    as messages, or (`resend`) the whole reply sent anew below it."""

    change: dict[str, Any]
    texts: list[str]
    resend: bool = False


def card_update(reply: Reply, renderer: Renderer, pressed: str = "") -> CardUpdate:
    """How the card whose task id is `pressed` shows the edit `reply`.

    Its text never goes missing: a card turns its buttons into one grey label (收到 → ✅
    已收到) only when it already shows the same text. Otherwise a new card with the text
    takes its place when the text fits on a card; when it does not, the card shows it was
    handled and the reply follows as new messages. No buttons (a verdict): the card shows
    it was handled and the text follows."""
    text = renderer.render(reply.text) if reply.text is not None else ""
    buttons = _buttons(reply, renderer)
    done = {"button": {"replace_name": renderer.render(Msg("wecom.done"))}}
    if not buttons:
        return CardUpdate(done, split_bytes(text))
    same = shows(pressed, text)
    if same and len(buttons) == 1:
        return CardUpdate({"button": {"replace_name": _clip(buttons[0][0], BUTTON_CHARS)}}, [])
    drawn = render(reply, renderer, text)
    # Unchanged text was sent above the card already; a new one must fit on the card.
    if len(drawn.cards) == 1 and (same or not drawn.texts):
        return CardUpdate({"template_card": drawn.cards[0]}, [])
    return CardUpdate(done, [], resend=True)
