"""Replies as JSON, for messages that wait in the outbox and are rendered when they are sent.

Only what a queued message needs survives the trip: text (a Msg with nested Msgs, lists,
dates and times), buttons and a forwarded attachment. Raw bytes (images, generated files) are
refused: a queued message must stay small, so such content is stored elsewhere and linked.

A `Secret` value never goes into the JSON: it is left as a placeholder ({"$secret": "s0"})
and collected in `secrets`, which the caller seals with the SecretBox (`seal`) into the
outbox row's own column; the sender opens it (`queued_reply`) and the row's copy is erased
once the message is sent or given up.
"""

import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from handlers.core.incoming import Attachment
from handlers.core.messages import Button, Msg, Reply, Secret, Series
from storage.crypto import SecretBox

JSON = dict[str, Any]


def _secret_out(value: Secret, secrets: dict[str, str] | None) -> JSON:
    if secrets is None:
        raise TypeError("a Secret cannot be queued in clear: queue it with the SecretBox (box=)")
    name = f"s{len(secrets)}"
    secrets[name] = value.value
    return {"$secret": name}


def _value_out(value: Any, secrets: dict[str, str] | None = None) -> Any:
    if isinstance(value, Secret):
        return _secret_out(value, secrets)
    if isinstance(value, Msg):
        return {"$msg": msg_out(value, secrets)}
    if isinstance(value, Series):
        return {"$series": [_value_out(v, secrets) for v in value]}
    if isinstance(value, list | tuple):
        return [_value_out(v, secrets) for v in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot queue a message value of type {type(value).__name__}")


def _value_in(value: Any, secrets: Mapping[str, str] | None = None) -> Any:
    if isinstance(value, list):
        return [_value_in(v, secrets) for v in value]
    if isinstance(value, dict):
        if "$secret" in value:  # a KeyError when it is gone: the sender gives the row up
            return Secret((secrets or {})[value["$secret"]])
        if "$msg" in value:
            return msg_in(value["$msg"], secrets)
        if "$series" in value:
            return Series(_value_in(v, secrets) for v in value["$series"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    return value


def msg_out(msg: Msg, secrets: dict[str, str] | None = None) -> JSON:
    """The Msg as JSON; Secret values go into `secrets` (a TypeError without it)."""
    return {"key": msg.key, "params": {k: _value_out(v, secrets) for k, v in msg.params.items()}}


def msg_in(data: JSON, secrets: Mapping[str, str] | None = None) -> Msg:
    params = data.get("params", {})
    return Msg(data["key"], **{k: _value_in(v, secrets) for k, v in params.items()})


def attachment_out(attachment: Attachment) -> JSON:
    return {
        "kind": attachment.kind,
        "file_id": attachment.file_id,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
    }


def attachment_in(data: JSON) -> Attachment:
    return Attachment(data["kind"], data["file_id"], data.get("file_name"), data.get("mime_type"))


def _button_out(button: Button, secrets: dict[str, str] | None) -> JSON:
    out: JSON = {"label": msg_out(button.label, secrets), "data": button.data}
    if button.url is not None:
        out["url"] = button.url
    return out


def reply_out(reply: Reply, secrets: dict[str, str] | None = None) -> JSON:
    """The reply as JSON for the outbox; TypeError for what cannot be queued (a Secret
    unless `secrets` is given to collect it)."""
    if reply.image is not None or reply.file is not None:
        raise TypeError("images and files cannot be queued; forward an attachment instead")
    data: JSON = {}
    if reply.text is not None:
        data["text"] = msg_out(reply.text, secrets)
    if reply.buttons:
        data["buttons"] = [[_button_out(b, secrets) for b in row] for row in reply.buttons]
    if reply.forward is not None:
        data["forward"] = attachment_out(reply.forward)
    return data


def reply_in(data: JSON, secrets: Mapping[str, str] | None = None) -> Reply:
    text = msg_in(data["text"], secrets) if "text" in data else None
    buttons = tuple(
        tuple(Button(msg_in(b["label"], secrets), b["data"], b.get("url")) for b in row)
        for row in data.get("buttons", ())
    )
    forward = attachment_in(data["forward"]) if "forward" in data else None
    return Reply(text, buttons, forward=forward)


def seal(box: SecretBox, secrets: Mapping[str, str]) -> bytes | None:
    """The collected secrets encrypted for the outbox row's `sealed` column (None: none)."""
    return box.encrypt(json.dumps(dict(secrets))) if secrets else None


def queued_reply(box: SecretBox, payload: JSON, sealed: bytes | None) -> Reply:
    """An outbox row's reply with its sealed secrets put back (ValueError if they cannot be
    opened, KeyError if they were erased: either way the message cannot go out)."""
    secrets = json.loads(box.decrypt(sealed) or "{}") if sealed is not None else None
    return reply_in(payload, secrets)
