"""Replies as WeCom messages: text split to WeCom's byte limit, buttons as template cards
(button_interaction), and what a card click's edit becomes.

WeCom cannot show a Reply exactly as Telegram does, so the choices live here, not in
handlers: a card holds a short title, a short line and at most six short buttons; a long
text goes first as a text message and the card follows with the buttons, six to a card.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from bot.i18n import Renderer
from handlers.messages import Button, Msg, Reply

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


def task_id() -> str:
    return f"bb{secrets.token_hex(12)}"  # unique per application, as WeCom requires


def card(title: str, subtitle: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    """A button_interaction card; `buttons` are (label, key) pairs."""
    body: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": _clip(title, TITLE_CHARS)},
        "task_id": task_id(),
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


def render(reply: Reply, renderer: Renderer, text: str | None = None) -> Rendered:
    """A short text with buttons is one card; a longer one is text messages, then cards."""
    if text is None:
        text = renderer.render(reply.text) if reply.text is not None else ""
    buttons = _buttons(reply, renderer)
    if not buttons:
        return Rendered(split_bytes(text), [])
    first, _, rest = text.partition("\n")
    first = first or renderer.render(Msg("wecom.choose"))  # a card needs a title
    if len(first) <= TITLE_CHARS and len(rest) <= SUBTITLE_CHARS:
        texts, title, subtitle = [], first, rest
    else:
        texts, title, subtitle = split_bytes(text), first, ""
    more = renderer.render(Msg("wecom.more_buttons"))
    cards = [
        card(title, subtitle, buttons[:BUTTONS_PER_CARD]),
        *(
            card(more, "", buttons[i : i + BUTTONS_PER_CARD])
            for i in range(BUTTONS_PER_CARD, len(buttons), BUTTONS_PER_CARD)
        ),
    ]
    return Rendered(texts, cards)


def card_update(reply: Reply, renderer: Renderer) -> tuple[dict[str, Any], list[str]]:
    """How a card that was clicked shows the edit: (the update, texts to send after it).

    One button left (收到 → ✅ 已收到): the card's buttons become that grey label. More
    (a multiple-choice toggle): a new card in its place. None (a verdict): the card shows it
    was handled and the text follows as a message."""
    text = renderer.render(reply.text) if reply.text is not None else ""
    buttons = _buttons(reply, renderer)
    if len(buttons) == 1:
        return {"button": {"replace_name": _clip(buttons[0][0], BUTTON_CHARS)}}, []
    if buttons:  # the card as `render` draws it; a longer text was sent before the card
        first = render(reply, renderer, text).cards[0]
        return {"template_card": first}, []
    done = renderer.render(Msg("wecom.done"))
    return {"button": {"replace_name": done}}, split_bytes(text)
