"""Reading meeting details as people type them: kinds, times, the one-line form."""

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from handlers.core.messages import Msg, UserError
from handlers.core.parsing import clean, parse_date
from storage.enums import MeetingKind

KIND_NAMES: dict[str, MeetingKind] = {
    "支部党员大会": MeetingKind.ASSEMBLY,
    "党员大会": MeetingKind.ASSEMBLY,
    "支委会": MeetingKind.COMMITTEE,
    "支部委员会": MeetingKind.COMMITTEE,
    "党小组会": MeetingKind.GROUP,
    "小组会": MeetingKind.GROUP,
    "党课": MeetingKind.LECTURE,
    "主题党日": MeetingKind.THEME_DAY,
    "组织生活会": MeetingKind.LIFE,
}
_TIME = re.compile(r"(\d{1,2})\s*[:点时]\s*(\d{1,2})?\s*分?")
_MINUTES = re.compile(r"(\d{1,3})\s*(分钟|min|minutes?)", re.I)
DEFAULT_MINUTES = 90


def parse_kind(text: str) -> MeetingKind:
    value = text.strip()
    if value.lower() in {k.value for k in MeetingKind}:
        return MeetingKind(value.lower())
    if value in KIND_NAMES:
        return KIND_NAMES[value]
    raise UserError("meeting.bad_kind", value=text)


def parse_when(text: str, zone: ZoneInfo) -> datetime:
    """`2026-12-01 14:30` (also 2026/12/1 14:30, 2026年12月1日 14点30) in the branch's zone."""
    parts = text.strip().split(maxsplit=1)
    if len(parts) != 2:
        raise UserError("meeting.bad_when", value=text)
    day = parse_date(parts[0])
    match = _TIME.fullmatch(parts[1].strip())
    if not match:
        raise UserError("meeting.bad_when", value=text)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise UserError("meeting.bad_when", value=text)
    return datetime.combine(day, time(hour, minute), zone)


def parse_minutes(text: str, *, unit_required: bool = True) -> int | None:
    """`90分钟`, `90 min`; a bare `90` only where nothing else could be meant (a button or
    the guided form's question), never in the one-line form, where `301` is a room."""
    match = _MINUTES.fullmatch(text.strip())
    if match is None and not unit_required:
        match = re.fullmatch(r"(\d{1,3})", text.strip())
    if not match:
        return None
    minutes = int(match.group(1))
    if not 10 <= minutes <= 600:
        raise UserError("meeting.bad_minutes", value=text)
    return minutes


def is_link(text: str) -> bool:
    return bool(re.match(r"^https?://\S+$", text.strip()))


@dataclass
class MeetingDraft:
    starts_at: datetime
    kind: MeetingKind
    title: str
    place: str | None = None
    link: str | None = None
    minutes: int = DEFAULT_MINUTES
    latitude: float | None = None  # the venue, for location check-in
    longitude: float | None = None


def check_title(title: str) -> str:
    title = title.strip()
    if not 0 < len(title) <= 100:
        raise UserError("meeting.bad_title")
    return title


def parse_one_line(args: str, zone: ZoneInfo) -> MeetingDraft:
    """`日期 时间 | 类型 | 主题 [| 地点] [| 链接] [| 90分钟]`, as typed: the date, kind, link and
    duration are read folded (full-width ｜ and ： are fine), the topic and place kept as typed."""
    fields = [f.strip() for f in re.split(r"[|｜]", args)]
    if len(fields) < 3 or not all(fields[:3]):
        raise UserError("usage", usage=Msg("cmd.meeting_new.usage"))
    when, kind = parse_when(clean(fields[0]), zone), parse_kind(clean(fields[1]))
    draft = MeetingDraft(when, kind, check_title(fields[2]))
    for extra in fields[3:]:
        if not extra:
            continue
        if is_link(clean(extra)):
            draft.link = clean(extra)
        elif (minutes := parse_minutes(clean(extra))) is not None:
            draft.minutes = minutes
        elif draft.place is None and len(extra) <= 100:
            draft.place = extra
        else:
            raise UserError("meeting.bad_field", value=extra)
    return draft
