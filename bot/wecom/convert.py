"""A decrypted WeCom callback (XML) as an `Incoming`, or None for what the bot ignores."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from handlers.incoming import Attachment, Incoming, Location

PLATFORM = "wecom"
# Events that are not the member saying anything (opening the app, a card shown, ...).
IGNORED_EVENTS = frozenset({"enter_agent", "subscribe", "unsubscribe", "view", "LOCATION"})


@dataclass(frozen=True)
class Callback:
    incoming: Incoming
    # A card's button was pressed: the code that lets the reply change that card.
    response_code: str | None = None


def fields(xml: str) -> dict[str, str]:
    """The callback's flat XML as a dict; ValueError if it is not XML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise ValueError(f"not XML: {err}") from err
    return {child.tag: (child.text or "").strip() for child in root}


def _key(data: dict[str, str]) -> str:
    """What makes a callback unique: WeCom retries the same message with the same MsgId."""
    if data.get("MsgId"):
        return data["MsgId"]
    if data.get("ResponseCode"):  # each press of a card's button has its own
        return "rc:" + data["ResponseCode"][:60]
    parts = (data.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey"))
    return ":".join(parts)[:64]


def to_incoming(data: dict[str, str]) -> Callback | None:
    user = data.get("FromUserName", "")
    kind = data.get("MsgType", "")
    if not user:
        return None
    base = Incoming(platform=PLATFORM, account_id=user, chat_id=user, update_key=_key(data))
    if kind == "text":
        return Callback(replace(base, text=data.get("Content", "")))
    if kind == "location":
        where = Location(float(data.get("Location_X", 0)), float(data.get("Location_Y", 0)))
        return Callback(replace(base, location=where))
    if kind in ("image", "file"):
        attachment = Attachment(
            "photo" if kind == "image" else "document",
            data.get("MediaId", ""),
            data.get("FileName") or None,
        )
        return Callback(replace(base, attachments=(attachment,)))
    if kind == "event" and data.get("Event") == "template_card_event":
        incoming = replace(base, callback_data=data.get("EventKey", ""))
        return Callback(incoming, data.get("ResponseCode") or None)
    if kind == "event" and data.get("Event") in IGNORED_EVENTS:
        return None
    # Voice, video, links and unknown events: the router answers that it cannot read them.
    return Callback(base)
