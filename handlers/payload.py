"""Replies as JSON, for messages that wait in the outbox and are rendered when they are sent.

Only what a queued message needs survives the trip: text (a Msg with nested Msgs, lists,
dates and times), buttons and a forwarded attachment. Raw bytes (images, generated files) are
refused: a queued message must stay small, so such content is stored elsewhere and linked.
"""

from datetime import date, datetime
from enum import Enum
from typing import Any

from handlers.incoming import Attachment
from handlers.messages import Button, Msg, Reply, Series

JSON = dict[str, Any]


def _value_out(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"$msg": msg_out(value)}
    if isinstance(value, Series):
        return {"$series": [_value_out(v) for v in value]}
    if isinstance(value, list | tuple):
        return [_value_out(v) for v in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot queue a message value of type {type(value).__name__}")


def _value_in(value: Any) -> Any:
    if isinstance(value, list):
        return [_value_in(v) for v in value]
    if isinstance(value, dict):
        if "$msg" in value:
            return msg_in(value["$msg"])
        if "$series" in value:
            return Series(_value_in(v) for v in value["$series"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    return value


def msg_out(msg: Msg) -> JSON:
    return {"key": msg.key, "params": {k: _value_out(v) for k, v in msg.params.items()}}


def msg_in(data: JSON) -> Msg:
    return Msg(data["key"], **{k: _value_in(v) for k, v in data.get("params", {}).items()})


def attachment_out(attachment: Attachment) -> JSON:
    return {
        "kind": attachment.kind,
        "file_id": attachment.file_id,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
    }


def attachment_in(data: JSON) -> Attachment:
    return Attachment(data["kind"], data["file_id"], data.get("file_name"), data.get("mime_type"))


def reply_out(reply: Reply) -> JSON:
    """The reply as JSON for the outbox; TypeError for what cannot be queued."""
    if reply.image is not None or reply.file is not None:
        raise TypeError("images and files cannot be queued; forward an attachment instead")
    data: JSON = {}
    if reply.text is not None:
        data["text"] = msg_out(reply.text)
    if reply.buttons:
        data["buttons"] = [
            [{"label": msg_out(b.label), "data": b.data} for b in row] for row in reply.buttons
        ]
    if reply.forward is not None:
        data["forward"] = attachment_out(reply.forward)
    return data


def reply_in(data: JSON) -> Reply:
    text = msg_in(data["text"]) if "text" in data else None
    buttons = tuple(
        tuple(Button(msg_in(b["label"]), b["data"]) for b in row) for row in data.get("buttons", ())
    )
    forward = attachment_in(data["forward"]) if "forward" in data else None
    return Reply(text, buttons, forward=forward)
