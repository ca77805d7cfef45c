"""Reading an archive entry from what was typed: its kind, dates and what it says.

`奖励 2024-05-01 校级 优秀共产党员 依据：校党委〔2024〕5号` for an award or a punishment;
`学习 2018-09-01 2022-06-30 某某大学 化学 学士` for education or work (至今: still).
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.core.messages import Msg, UserError
from handlers.core.parsing import clean, parse_date

KIND_WORDS: dict[str, str] = {
    "education": "education",
    "学习": "education",
    "学习经历": "education",
    "教育": "education",
    "教育经历": "education",
    "work": "work",
    "工作": "work",
    "工作经历": "work",
    "award": "award",
    "奖励": "award",
    "获奖": "award",
    "表彰": "award",
    "punishment": "punishment",
    "惩处": "punishment",
    "处分": "punishment",
    "惩罚": "punishment",
}
LEVELS = ("国家级", "省部级", "省级", "市级", "区县级", "校级", "院级", "系级", "支部级", "其他")
STILL = frozenset({"至今", "今", "现在", "-", "now"})
BASIS = re.compile(r"\s*依据\s*[:：]\s*")
MAX_TEXT = 200
EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True)
class NewEntry:
    kind: str
    since: date
    until: date | None = None
    body: dict[str, Any] = field(default_factory=dict)


def parse_kind(text: str) -> str:
    found = KIND_WORDS.get(text.strip().lower())
    if found is None:
        raise UserError("archive.bad_kind", value=text[:20], usage=Msg("cmd.archive_add.usage"))
    return found


def _usage(kind: str) -> Msg:
    return Msg(f"archive.form.{kind}")


def _date(text: str, kind: str, today: date) -> date:
    try:
        day = parse_date(text)
    except UserError:
        raise UserError("archive.bad_date", value=text[:20], form=_usage(kind)) from None
    if day > today or day < EARLIEST:
        raise UserError("archive.future_date", value=day, form=_usage(kind))
    return day


def _text(text: str, kind: str) -> str:
    text = clean(text)
    if len(text) > MAX_TEXT:
        raise UserError("archive.too_long", limit=MAX_TEXT, form=_usage(kind))
    return text


def parse_entry(kind: str, text: str, today: date) -> NewEntry:
    """The entry the rest of the line describes, or a UserError showing the right form."""
    if kind in ("award", "punishment"):
        return _honour(kind, text, today)
    return _stretch(kind, text, today)


def _honour(kind: str, text: str, today: date) -> NewEntry:
    match = BASIS.search(text)
    head, basis = (text[: match.start()], text[match.end() :]) if match else (text, "")
    tokens = head.split(maxsplit=2)
    if len(tokens) < 3 or not basis.strip():
        raise UserError("archive.incomplete", form=_usage(kind))
    day = _date(tokens[0], kind, today)
    if tokens[1] not in LEVELS:
        raise UserError("archive.bad_level", value=tokens[1][:20], levels=" ".join(LEVELS))
    body = {"level": tokens[1], "title": _text(tokens[2], kind), "basis": _text(basis, kind)}
    return NewEntry(kind, day, None, body)


def _stretch(kind: str, text: str, today: date) -> NewEntry:
    tokens = text.split(maxsplit=3)
    if len(tokens) < 3:
        raise UserError("archive.incomplete", form=_usage(kind))
    since = _date(tokens[0], kind, today)
    until = None
    if tokens[1].lower() not in STILL:
        try:
            until = parse_date(tokens[1])
        except UserError:
            raise UserError("archive.bad_date", value=tokens[1][:20], form=_usage(kind)) from None
        if until < since:
            raise UserError("archive.until_before", since=since, until=until, form=_usage(kind))
    what = _text(tokens[3], kind) if len(tokens) > 3 else ""
    return NewEntry(kind, since, until, {"place": _text(tokens[2], kind), "what": what})
