"""A survey's definition (title, questions, audience, deadline, anonymity), read and checked
the same way from the guided /survey_new and from an imported JSON or YAML file.

Each check raises a UserError saying what is wrong; `from_dict` runs them all over a file's
content and collects every problem with where it is, so an import lists them at once.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from handlers.core.messages import Msg, UserError
from handlers.core.parsing import clean, looks_like_stage, parse_date, parse_stage, tidy

KINDS: tuple[str, ...] = ("single", "multi", "scale", "text")
CHOICE_KINDS = frozenset({"single", "multi"})
LETTERS = "ABCDEFGH"
MAX_QUESTIONS = 20
MIN_OPTIONS, MAX_OPTIONS = 2, 8
MAX_TITLE = 100
MAX_QUESTION = 200
MAX_OPTION = 50
MAX_DAYS = 90
SCALE = (1, 2, 3, 4, 5)
# A deadline given as a date alone ends with that day.
END_OF_DAY = time(23, 59)

KIND_NAMES: dict[str, str] = {
    "single": "single",
    "单选": "single",
    "单选题": "single",
    "multi": "multi",
    "multiple": "multi",
    "多选": "multi",
    "多选题": "multi",
    "scale": "scale",
    "1-5分": "scale",
    "1-5": "scale",
    "打分": "scale",
    "打分题": "scale",
    "评分": "scale",
    "评分题": "scale",
    "量表": "scale",
    "text": "text",
    "问答": "text",
    "问答题": "text",
    "简答": "text",
    "简答题": "text",
    "开放题": "text",
}
AUDIENCE_NAMES: dict[str, str] = {
    "branch": "branch",
    "全支部": "branch",
    "全体": "branch",
    "全体成员": "branch",
    "interns": "interns",
    "实习党员": "interns",
    "见习党员": "interns",
    "实习": "interns",
    "见习": "interns",
}
ANONYMOUS_WORDS = frozenset({"匿名", "anonymous", "是", "yes", "y", "true", "1"})
NAMED_WORDS = frozenset({"实名", "named", "否", "no", "n", "false", "0"})
_OPTION_SEPARATORS = re.compile(r"[\n、；;]")
_DEADLINE = re.compile(
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)\s*[Tt]?\s*"
    r"(?:(\d{1,2})\s*[:点时]\s*(\d{1,2})?\s*分?(?::\d{1,2}(?:\.\d+)?)?)?"
)
FIELDS = frozenset({"title", "anonymous", "deadline", "audience", "questions"})
QUESTION_FIELDS = frozenset({"kind", "text", "options"})
T = TypeVar("T")


@dataclass(frozen=True)
class Question:
    kind: str  # one of KINDS
    text: str
    options: tuple[str, ...] = ()  # single and multi only

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "options": list(self.options)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Question":
        return cls(str(data["kind"]), str(data["text"]), tuple(data.get("options") or ()))


@dataclass(frozen=True)
class Audience:
    kind: str  # branch, stage or interns
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "stage": self.stage} if self.stage else {"kind": self.kind}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Audience":
        return cls(str(data.get("kind", "branch")), data.get("stage"))

    def describe(self, school_wide: bool) -> Msg:
        if self.kind == "stage":
            return Msg("survey.audience.stage", stage=Msg(f"stage.{self.stage}"))
        if self.kind == "interns":
            return Msg("survey.audience.interns")
        return Msg("survey.audience.school" if school_wide else "survey.audience.branch")


@dataclass(frozen=True)
class SurveySpec:
    title: str
    questions: tuple[Question, ...]
    audience: Audience
    deadline: datetime
    anonymous: bool


@dataclass(frozen=True)
class Problem:
    where: Msg
    what: Msg


class SpecInvalid(Exception):
    """A survey file with problems; nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def check_title(text: str) -> str:
    title = tidy(text)
    if not title:
        raise UserError("survey.title_empty")
    if len(title) > MAX_TITLE or "\n" in title:
        raise UserError("survey.title_too_long", limit=MAX_TITLE)
    return title


def parse_kind(text: str) -> str:
    kind = KIND_NAMES.get(clean(text).lower().replace("–", "-").replace(" ", ""))
    if kind is None:
        raise UserError("survey.bad_kind", value=text)
    return kind


def check_question_text(text: str) -> str:
    question = tidy(text)
    if not question:
        raise UserError("survey.question_empty")
    if len(question) > MAX_QUESTION:
        raise UserError("survey.question_too_long", limit=MAX_QUESTION, length=len(question))
    return question


def split_options(text: str) -> list[str]:
    """Options typed in one message: one a line, or separated by 、 or ；."""
    return [part for part in (tidy(p) for p in _OPTION_SEPARATORS.split(text)) if part]


def check_options(options: list[str]) -> tuple[str, ...]:
    cleaned = [tidy(o) for o in options]
    if any(not o for o in cleaned):
        raise UserError("survey.option_empty")
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise UserError(
            "survey.option_count", count=len(cleaned), low=MIN_OPTIONS, high=MAX_OPTIONS
        )
    long = [o for o in cleaned if len(o) > MAX_OPTION]
    if long:
        raise UserError("survey.option_too_long", option=long[0][:20], limit=MAX_OPTION)
    twice = sorted({o for o in cleaned if cleaned.count(o) > 1})
    if twice:
        raise UserError("survey.option_twice", option=twice[0])
    return tuple(cleaned)


def parse_audience(text: str) -> Audience:
    """全支部/branch, 实习党员/interns, or a stage in Chinese or English."""
    value = clean(text)
    kind = AUDIENCE_NAMES.get(value.lower())
    if kind is not None:
        return Audience(kind)
    if looks_like_stage(value):
        return Audience("stage", str(parse_stage(value)))
    raise UserError("survey.bad_audience", value=text)


def parse_deadline(text: str, zone: ZoneInfo) -> datetime:
    """`2026-12-20 18:00` (also 2026/12/20 18点, 2026年12月20日 18:00) or a date alone, which
    means the end of that day, in the branch's time zone."""
    match = _DEADLINE.fullmatch(clean(text))
    if match is None:
        raise UserError("survey.bad_deadline", value=text)
    try:
        day = parse_date(match.group(1))
    except UserError as err:
        raise UserError("survey.bad_deadline", value=text) from err
    if match.group(2) is None:
        return datetime.combine(day, END_OF_DAY, zone)
    hour, minute = int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59:
        raise UserError("survey.bad_deadline", value=text)
    return datetime.combine(day, time(hour, minute), zone)


def check_deadline(when: datetime, now: datetime) -> datetime:
    if when <= now:
        raise UserError("survey.deadline_past", at=when)
    if when > now + timedelta(days=MAX_DAYS):
        raise UserError("survey.deadline_far", days=MAX_DAYS)
    return when


def parse_anonymous(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = clean(str(value)).lower()
    if word in ANONYMOUS_WORDS:
        return True
    if word in NAMED_WORDS:
        return False
    raise UserError("survey.bad_anonymous", value=str(value))


# A whole definition from a file: every problem collected, with where it is.


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def check(self, where: Msg, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except UserError as err:
            self.problems.append(Problem(where, err.msg))
            return None

    def add(self, where: Msg, key: str, **params: Any) -> None:
        self.problems.append(Problem(where, Msg(key, **params)))


def _field(name: str) -> Msg:
    return Msg("survey.where_field", field=name)


def _in_question(no: int, name: str) -> Msg:
    return Msg("survey.where_question", no=no, field=name)


def _deadline_from(value: object, zone: ZoneInfo, now: datetime) -> datetime:
    """A deadline as written in a file: text, or the date or datetime YAML made of it."""
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=zone)
    elif isinstance(value, date):
        when = datetime.combine(value, END_OF_DAY, zone)
    elif isinstance(value, str):
        when = parse_deadline(value, zone)
    else:
        raise UserError("survey.bad_deadline", value=str(value))
    return check_deadline(when, now)


def _text(value: object, key: str) -> str:
    """A field that must be text (a number is read as its digits)."""
    if value is None or isinstance(value, dict | list | bool):
        raise UserError(key, value=str(value))
    return str(value)


def _given(data: dict[Any, Any], name: str, key: str) -> object:
    """A field that must be there."""
    if data.get(name) is None:
        raise UserError(key)
    return data[name]


def _options_from(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return check_options(split_options(value))
    if not isinstance(value, list) or any(isinstance(o, dict | list) for o in value):
        raise UserError("survey.options_not_list")
    return check_options([str(o) if o is not None else "" for o in value])


def _question_from(found: _Collector, no: int, item: object) -> Question | None:
    if not isinstance(item, dict):
        found.add(Msg("survey.where_item", no=no), "survey.question_not_table")
        return None
    for extra in sorted(set(map(str, item)) - QUESTION_FIELDS):
        found.add(_in_question(no, extra), "survey.unknown_field")
    kind = found.check(
        _in_question(no, "kind"),
        lambda: parse_kind(_text(item.get("kind"), "survey.kind_missing")),
    )
    text = found.check(
        _in_question(no, "text"),
        lambda: check_question_text(_text(item.get("text"), "survey.question_empty")),
    )
    options: tuple[str, ...] | None = ()
    given = item.get("options")
    if kind in CHOICE_KINDS:
        options = found.check(_in_question(no, "options"), lambda: _options_from(given))
    elif kind is not None and given:
        unwanted = Msg(f"survey.kind.{kind}")
        found.add(_in_question(no, "options"), "survey.options_unwanted", kind=unwanted)
    if kind is None or text is None or options is None:
        return None
    return Question(kind, text, options)


def _questions_from(found: _Collector, value: object) -> tuple[Question, ...]:
    if not isinstance(value, list) or not value:
        found.add(_field("questions"), "survey.no_questions")
        return ()
    if len(value) > MAX_QUESTIONS:
        found.add(_field("questions"), "survey.too_many_questions", limit=MAX_QUESTIONS)
    questions = [_question_from(found, no, item) for no, item in enumerate(value, start=1)]
    return tuple(q for q in questions if q is not None)


def from_dict(data: object, zone: ZoneInfo, now: datetime) -> SurveySpec:
    """The survey a file describes; SpecInvalid lists every problem found."""
    found = _Collector()
    if not isinstance(data, dict):
        found.add(Msg("survey.where_file"), "survey.file_not_table")
        raise SpecInvalid(found.problems)
    for extra in sorted(set(map(str, data)) - FIELDS):
        found.add(_field(extra), "survey.unknown_field")
    title = found.check(
        _field("title"), lambda: check_title(_text(data.get("title"), "survey.title_empty"))
    )
    anonymous = found.check(
        _field("anonymous"),
        lambda: parse_anonymous(_given(data, "anonymous", "survey.anonymous_missing")),
    )
    deadline = found.check(
        _field("deadline"),
        lambda: _deadline_from(_given(data, "deadline", "survey.deadline_missing"), zone, now),
    )
    audience = found.check(
        _field("audience"),
        lambda: parse_audience(_text(data.get("audience", "branch"), "survey.bad_audience")),
    )
    questions = _questions_from(found, data.get("questions"))
    if found.problems:
        raise SpecInvalid(found.problems)
    assert title is not None and anonymous is not None and deadline is not None
    assert audience is not None
    return SurveySpec(title, questions, audience, deadline, anonymous)
