"""A decrypted WeCom callback (XML) as an `Incoming`, or None for what the bot ignores."""

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from handlers.core.incoming import Attachment, Incoming, Location

PLATFORM = "wecom"
CALLBACK_PATH = "/wecom/callback"  # on the service's HTTP server


@dataclass(frozen=True)
class Callback:
    incoming: Incoming
    # A card's button was pressed: the code that lets the reply change that card, and the
    # card's task id (which tells what text the card shows; see render.card_update).
    response_code: str | None = None
    task_id: str = ""


def fields(xml: str) -> dict[str, str]:
    """The callback's flat XML as a dict; ValueError if it is not XML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise ValueError(f"not XML: {err}") from err
    return {child.tag: (child.text or "").strip() for child in root}


def log_ref(userid: str) -> str:
    """How logs name a WeCom member: a WeCom userid is often the person's name or staff
    number, and logs hold no personal data; a short digest still ties a member's lines."""
    return "wx#" + hashlib.sha256(userid.encode()).hexdigest()[:10]


def _key(data: dict[str, str]) -> str:
    """What makes a callback unique: WeCom retries the same message with the same MsgId,
    and each press of a card's button has its own ResponseCode."""
    if data.get("MsgId"):
        return data["MsgId"][:64]
    parts = (data.get(k, "") for k in ("ResponseCode", "FromUserName", "CreateTime", "EventKey"))
    return "ev:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:60]


def to_incoming(data: dict[str, str]) -> Callback | None:
    user = data.get("FromUserName", "")
    kind = data.get("MsgType", "")
    if not user:
        return None
    base = Incoming(platform=PLATFORM, account_id=user, chat_id=user, update_key=_key(data))
    if kind == "text":
        return Callback(replace(base, text=data.get("Content", "")))
    if kind == "location":
        # Imported here: bot.serve loads this module for its names whether or not the `wecom`
        # extra is installed, and a callback arrives only once it is (see serve._wecom).
        from eviltransform import gcj2wgs_exact

        # WeCom's map gives GCJ-02, offset by a few hundred metres in China from the WGS-84
        # that venues (shared on Telegram, or from GPS) are recorded in.
        latitude, longitude = gcj2wgs_exact(
            float(data.get("Location_X", 0)), float(data.get("Location_Y", 0))
        )
        return Callback(replace(base, location=Location(latitude, longitude)))
    if kind == "image":  # an application receives no files, only images
        attachment = Attachment("photo", data.get("MediaId", ""))
        return Callback(replace(base, attachments=(attachment,)))
    if kind == "event":
        if data.get("Event") != "template_card_event":
            return None  # opening the app, contact changes, menus: nobody said anything
        incoming = replace(base, callback_data=data.get("EventKey", ""))
        return Callback(incoming, data.get("ResponseCode") or None, data.get("TaskId", ""))
    # Voice, video and links: the router answers that it cannot read them.
    return Callback(base)
