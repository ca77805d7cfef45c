"""A member's further personal fields (性别, 民族, 出生日期, 学历, 籍贯), kept together as
encrypted JSON in `members.profile_enc`: the roster file's columns, the archive and /mydata
read and write them through here."""

import json
from datetime import date
from typing import Any

from storage.crypto import SecretBox
from storage.models import Member

# The fields, in the order a roster and a record show them; a date is kept as ISO text.
PERSONAL_FIELDS = ("gender", "ethnicity", "birth_date", "education", "native_place")
DATE_FIELDS = frozenset({"birth_date"})


def personal_of(box: SecretBox, member: Member) -> dict[str, Any]:
    """The member's personal fields that are filled in (a date as a date)."""
    raw = box.decrypt(member.profile_enc)
    stored: dict[str, Any] = json.loads(raw) if raw else {}
    found: dict[str, Any] = {}
    for name in PERSONAL_FIELDS:
        value = stored.get(name)
        if value:
            found[name] = date.fromisoformat(value) if name in DATE_FIELDS else value
    return found


def set_personal(box: SecretBox, member: Member, changes: dict[str, Any]) -> None:
    """Set (a value) or clear (None) some of the member's personal fields, re-encrypted."""
    unknown = set(changes) - set(PERSONAL_FIELDS)
    if unknown:
        raise ValueError(f"not personal fields: {sorted(unknown)}")
    values = personal_of(box, member) | changes
    kept = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in values.items()
        if value
    }
    member.profile_enc = box.encrypt(json.dumps(kept, ensure_ascii=False)) if kept else None
