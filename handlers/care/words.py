"""How a member's counts read, for the secretary's notices, /care and /care NAME: the runs
with their months, the meetings missed, the dates at six months, the latest note."""

from zoneinfo import ZoneInfo

from handlers.care.rules import six_month_rule
from handlers.care.sixmonth import DUES, MEETINGS, Count, day_of
from handlers.common.freetext import quoted
from handlers.core.messages import Msg, Series
from handlers.dues.money import month_msg, spans
from storage.care import note_text
from storage.care_models import CareNote
from storage.crypto import SecretBox

NOTE_SHOWN = 60  # characters of a note in a list


def run_lines(count: Count) -> list[Msg]:
    """Each run the member has, with its months (neutral months are gaps between them)."""
    lines = []
    for measure in (MEETINGS, DUES):
        if count.count(measure):
            months = spans(count.months(measure))
            lines.append(Msg(f"care.run.{measure}", count=count.count(measure), months=months))
    return lines


def missed_lines(count: Count, zone: ZoneInfo) -> list[Msg]:
    """Month by month, the meetings missed without an excuse."""
    return [
        Msg(
            "care.missed_month",
            month=month_msg(missed.month),
            meetings=Series(
                Msg(
                    "care.missed_meeting",
                    kind=Msg(f"kind.{seen.kind}"),
                    title=seen.title,
                    on=day_of(seen, zone),
                )
                for seen in missed.meetings
            ),
        )
        for missed in count.missed
    ]


def dated_lines(count: Count) -> list[Msg]:
    """Each run with its first month and the last time the member took part or paid."""
    lines = []
    if count.missed:
        last = (
            Msg("care.last_attended", on=count.last_attended)
            if count.last_attended
            else Msg("care.none_within", months=six_month_rule().lookback_months)
        )
        since = month_msg(count.missed[0].month)
        lines.append(Msg("care.dated.meetings", count=len(count.missed), since=since, last=last))
    if count.unpaid:
        paid = (
            Msg("care.last_paid", month=month_msg(count.last_paid))
            if count.last_paid
            else Msg("care.never_paid")
        )
        since = month_msg(count.unpaid[0])
        lines.append(Msg("care.dated.dues", count=len(count.unpaid), since=since, last=paid))
    return lines


def note_line(box: SecretBox, note: CareNote, zone: ZoneInfo, *, limit: int | None) -> Msg:
    """A care note as the secretary reads it: its kind, date and words (shortened in lists)."""
    return Msg(
        "care.note_line",
        id=note.id,
        kind=Msg(f"care.note_kind.{note.kind}"),
        on=note.recorded_at.astimezone(zone).date(),
        text=quoted(note_text(box, note), inline=limit is not None, limit=limit),
    )


def latest_note(box: SecretBox, notes: list[CareNote], zone: ZoneInfo) -> Msg:
    return note_line(box, notes[0], zone, limit=NOTE_SHOWN) if notes else Msg("care.no_note")
