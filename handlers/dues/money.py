"""Reading and showing dues amounts and months: 0.2 / 0.20 / 0.2元 / ¥0.2, 2026-11 /
2026.11 / 2026年11月, ranges 2026-09..2026-11. Amounts are exact (Decimal), kept in fen."""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from handlers.core.messages import Msg, Series, UserError
from handlers.dues.standing import next_month

MAX_YUAN = Decimal(100_000)
# A range covers at most ten years of months at once.
MAX_MONTHS = 120
_AMOUNT = re.compile(r"(?:[¥￥]|RMB)?\s*(\d{1,6}(?:\.\d{1,2})?)\s*元?", re.I)
_MONTH = re.compile(r"(\d{4})\s*(?:[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月?)")
_RANGE = re.compile(r"\s*(?:\.\.|~|至|到)\s*")


def parse_amount(text: str) -> int:
    """A positive amount in yuan with at most two decimals, as fen; else a UserError."""
    match = _AMOUNT.fullmatch(text.strip())
    amount = Decimal(match.group(1)) if match else Decimal(0)
    if not 0 < amount <= MAX_YUAN:
        raise UserError("dues.bad_amount", value=text)
    return int(amount * 100)


def yuan(fen: int) -> str:
    """Fen shown as yuan with two decimals: 20 -> "0.20"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _one_month(text: str) -> date | None:
    match = _MONTH.fullmatch(text.strip())
    if not match:
        return None
    year, number = int(match.group(1)), int(match.group(2) or match.group(3))
    if not (1900 <= year <= 2100 and 1 <= number <= 12):
        return None
    return date(year, number, 1)


def parse_month(text: str) -> date:
    """One month: 2026-11, 2026/11, 2026.11 or 2026年11月."""
    month = _one_month(text)
    if month is None:
        raise UserError("dues.bad_month", value=text)
    return month


def parse_months(text: str) -> list[date]:
    """One month or a range (2026-09..2026-11, also with ~, 至 or 到), every month in it."""
    parts = _RANGE.split(text.strip())
    if len(parts) == 1:
        return [parse_month(parts[0])]
    if len(parts) != 2:
        raise UserError("dues.bad_month", value=text)
    first, last = parse_month(parts[0]), _range_end(parts[0], parts[1])
    if last < first:
        raise UserError("dues.bad_range", value=text)
    months = [first]
    while months[-1] < last:
        if len(months) >= MAX_MONTHS:
            raise UserError("dues.range_too_long", limit=MAX_MONTHS)
        months.append(next_month(months[-1]))
    return months


def _range_end(start: str, end: str) -> date:
    """The range's last month; a bare month number (2026年9月至11月) takes the start's year."""
    if re.fullmatch(r"\d{1,2}\s*月?", end.strip()):
        return parse_month(f"{start.strip()[:4]}-{end.strip().rstrip('月')}")
    return parse_month(end)


def month_msg(month: date) -> Msg:
    return Msg("dues.month", year=month.year, month=month.month)


def spans(months: Iterable[date]) -> Series:
    """Months as runs: 2026年9月–2026年11月、2027年1月 (the list need not be sorted)."""
    runs: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if runs and next_month(runs[-1][1]) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return Series(
        month_msg(a) if a == b else Msg("dues.span", first=month_msg(a), last=month_msg(b))
        for a, b in runs
    )
