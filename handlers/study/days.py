"""Days and weeks in the branch's time zone, as the study record counts them."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of `now`'s day where the branch is."""
    return datetime.combine(now.astimezone(zone).date(), time(), zone)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())
