"""Reading `/jielong 主题 [截止 日期时间] [限 N 人] [会议 编号] [活动 名称]` as people type it.

The topic is everything before the first option word; an option word counts only as a word
of its own (or, for the three that take a number or a date, glued to it: 限30人, 截止12-1),
so a topic like 限时答题 stays whole. The topic and an activity's name keep the writer's own
punctuation; dates and numbers are read folded (full-width digits are fine).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.core.messages import Msg, UserError
from handlers.core.parsing import clean, parse_id
from handlers.surveys.spec import parse_deadline

# The option words, Chinese and English, by what they set.
OPTIONS: dict[str, str] = {
    "截止": "deadline",
    "until": "deadline",
    "限": "limit",
    "limit": "limit",
    "会议": "meeting",
    "meeting": "meeting",
    "活动": "activity",
    "activity": "activity",
}
# Option words that may be glued to the number or date after them.
GLUED = ("截止", "限", "会议")
MAX_TOPIC = 200
MAX_ACTIVITY = 60
MAX_CAPACITY = 1000
MEETING = "meeting:"
_LIMIT = re.compile(r"(\d{1,4})\s*人?")


@dataclass(frozen=True)
class Draft:
    topic: str
    deadline: datetime | None = None
    capacity: int | None = None
    meeting_id: int | None = None
    activity: str | None = None


def _usage() -> Msg:
    return Msg("cmd.jielong.usage")


def _option(token: str) -> tuple[str, str] | None:
    """(what the option sets, the value glued to it) when the token starts an option."""
    folded = clean(token).lower()
    if folded in OPTIONS:
        return OPTIONS[folded], ""
    for word in GLUED:
        rest = folded.removeprefix(word)
        if rest != folded and rest[:1].isdigit():
            return OPTIONS[word], rest
    return None


def split_options(typed: str) -> tuple[str, dict[str, str]]:
    """The topic as typed and each option's value (as typed), in the order given."""
    topic: list[str] = []
    values: dict[str, list[str]] = {}
    current: list[str] | None = None
    for token in typed.split():
        found = _option(token)
        if found is None:
            (topic if current is None else current).append(token)
            continue
        name, glued = found
        if name in values:
            raise UserError("rollcall.option_twice", usage=_usage())
        current = values[name] = [glued] if glued else []
    return " ".join(topic), {k: " ".join(v) for k, v in values.items()}


def parse_jielong(typed: str, now: datetime, zone: ZoneInfo) -> Draft:
    """The roll-call asked for; a UserError showing the right form when anything is off."""
    topic, options = split_options(typed)
    if not topic:
        raise UserError("usage", usage=_usage())
    if len(topic) > MAX_TOPIC:
        raise UserError("rollcall.topic_too_long", limit=MAX_TOPIC)
    if "meeting" in options and "activity" in options:
        raise UserError("rollcall.one_attachment", usage=_usage())
    return Draft(
        topic=topic,
        deadline=_deadline(options["deadline"], now, zone) if "deadline" in options else None,
        capacity=_capacity(options["limit"]) if "limit" in options else None,
        meeting_id=_meeting(options["meeting"]) if "meeting" in options else None,
        activity=_activity(options["activity"]) if "activity" in options else None,
    )


def _deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """`2026-12-01 18:00`, or a date alone (the end of that day), in the branch's zone."""
    try:
        when = parse_deadline(text, zone)
    except UserError as err:
        raise UserError("rollcall.bad_deadline", value=text, usage=_usage()) from err
    if when <= now:
        raise UserError("rollcall.deadline_past", at=when)
    return when


def _capacity(text: str) -> int:
    match = _LIMIT.fullmatch(clean(text))
    if match is None or not 1 <= int(match.group(1)) <= MAX_CAPACITY:
        raise UserError("rollcall.bad_limit", value=text, most=MAX_CAPACITY, usage=_usage())
    return int(match.group(1))


def _meeting(text: str) -> int:
    found = parse_id(clean(text))
    if found is None:
        raise UserError("rollcall.bad_meeting", value=text, usage=_usage())
    return found


def _activity(text: str) -> str:
    name = text.strip()
    # "meeting:12" is how a meeting is attached: a label may not pass for one.
    if not name or len(name) > MAX_ACTIVITY or name.startswith(MEETING):
        raise UserError("rollcall.bad_activity", limit=MAX_ACTIVITY, usage=_usage())
    return name
