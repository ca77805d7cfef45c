"""Periods of time a report covers: a month, a term, a year or any span of months or days.

`until` is exclusive everywhere, so consecutive periods never share a day. Terms follow the
Chinese academic year: the autumn term runs September to January, the spring term February
to July (August, the summer break, belongs to the spring term just ended).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from handlers.core.messages import UserError

MONTHS = re.compile(r"^(\d{4})-(\d{1,2})$")
DAYS = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
SPAN_SEPARATORS = ("..", "~", "～", "至")
WORDS = {
    "month": "month",
    "本月": "month",
    "term": "term",
    "本学期": "term",
    "学期": "term",
    "year": "year",
    "本年": "year",
    "今年": "year",
}
LONGEST_YEARS = 5  # a report over more than five years is a typing mistake
LONGEST_DAYS = 366 * LONGEST_YEARS
# Years a period may name: far enough either side for any record, and near enough that the
# previous period and the day after the end stay within what a date can hold.
YEARS = (1900, 2100)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    return day + relativedelta(months=months)


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # exclusive

    @classmethod
    def last_year(cls, today: date) -> "Period":
        return cls(add_months(today, -12), today + timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.since, time(), zone),
            datetime.combine(self.until, time(), zone),
        )

    @property
    def days(self) -> int:
        return (self.until - self.since).days

    @property
    def whole_months(self) -> int | None:
        """How many calendar months the period is, when it is whole months; else None."""
        if self.since.day != 1 or self.until.day != 1:
            return None
        delta = relativedelta(self.until, self.since)
        return delta.years * 12 + delta.months

    def previous(self) -> "Period":
        """The period of the same length just before (whole months stay whole months)."""
        months = self.whole_months
        if months:
            return Period(add_months(self.since, -months), self.since)
        return Period(self.since - timedelta(days=self.days), self.since)

    def clipped(self, today: date) -> "Period":
        """The part of the period up to and including today (a running term so far)."""
        return Period(self.since, max(self.since, min(self.until, today + timedelta(days=1))))

    def months(self) -> list["Period"]:
        """The calendar months the period touches, each cut to the period."""
        found, start = [], self.since
        while start < self.until:
            end = min(add_months(start.replace(day=1), 1), self.until)
            found.append(Period(start, end))
            start = end
        return found

    def contains(self, day: date) -> bool:
        return self.since <= day < self.until

    @property
    def last_day(self) -> date:
        return self.until - timedelta(days=1)

    @property
    def label(self) -> str:
        months = self.whole_months
        last = self.until - timedelta(days=1)
        if months == 1:
            return f"{self.since:%Y-%m}"
        if months:
            return f"{self.since:%Y-%m}..{last:%Y-%m}"
        return f"{self.since.isoformat()}..{last.isoformat()}"


def term_of(today: date) -> Period:
    if today.month >= 9:
        return Period(date(today.year, 9, 1), date(today.year + 1, 2, 1))
    if today.month == 1:
        return Period(date(today.year - 1, 9, 1), date(today.year, 2, 1))
    return Period(date(today.year, 2, 1), date(today.year, 8, 1))


def parse_period(text: str, today: date) -> Period:
    """`month`/`本月`, `term`/`本学期`, `year`/`本年`, `2026-09` (one month),
    `2026-09..2026-12` (months, inclusive) or `2026-09-01..2026-12-31` (days, inclusive).
    Text in none of these forms is a UserError("period.bad") that shows the forms; a known
    mistake says which: a month or day that does not exist (period.bad_date), an end before
    the start (period.reversed), a span over LONGEST_YEARS (period.too_long)."""
    cleaned = text.strip()
    word = WORDS.get(cleaned.lower())
    if word == "month" or not cleaned:
        start = today.replace(day=1)
        return Period(start, add_months(start, 1))
    if word == "term":
        return term_of(today)
    if word == "year":
        return Period(date(today.year, 1, 1), date(today.year + 1, 1, 1))
    first, last = _split(cleaned)
    period = _span(first, last, cleaned)
    if period.until <= period.since:
        raise UserError("period.reversed", value=cleaned, first=first, last=last)
    if period.days > LONGEST_DAYS:
        raise UserError("period.too_long", value=cleaned, days=period.days, years=LONGEST_YEARS)
    return period


def _split(text: str) -> tuple[str, str]:
    for separator in SPAN_SEPARATORS:
        if separator in text:
            first, _, last = text.partition(separator)
            return first.strip(), last.strip()
    return text, text


def _span(first: str, last: str, text: str) -> Period:
    if MONTHS.match(first) and MONTHS.match(last):
        return Period(_real(_month, first), add_months(_real(_month, last), 1))
    if DAYS.match(first) and DAYS.match(last):
        return Period(_real(_day, first), _real(_day, last) + timedelta(days=1))
    raise UserError("period.bad", value=text)


def _real(read: Callable[[str], date], part: str) -> date:
    """A month or day in the right form that must also exist (not 2026-13, not 2026-02-30)."""
    try:
        return read(part)
    except ValueError:
        raise UserError("period.bad_date", part=part, low=YEARS[0], high=YEARS[1]) from None


def _month(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(_year(year), month, 1)


def _day(text: str) -> date:
    year, month, day = (int(part) for part in text.split("-"))
    return date(_year(year), month, day)


def _year(year: int) -> int:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"year {year} is outside {YEARS}")
    return year
