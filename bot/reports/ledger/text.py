"""The ledger's words, rendered once in the configured language, for the Word and PDF files
alike: the cover, the summary table, and per meeting its facts, attendance, minutes and votes."""

from dataclasses import dataclass

from handlers.core.i18n import Renderer
from handlers.core.messages import Msg, Series
from handlers.orglife.ledger import Ledger, LedgerMeeting, LedgerVote, Person, Photo
from handlers.orglife.words import period_name
from storage.enums import Presence

ROWS = (
    ("ledger.att.present", Presence.PRESENT),
    ("ledger.att.online", Presence.ONLINE),
    ("ledger.att.excused", Presence.EXCUSED),
    ("ledger.att.absent", Presence.ABSENT),
)


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class MeetingText:
    heading: str
    facts: list[tuple[str, str]]  # label, value
    attendance: Table
    minutes_title: str
    minutes: list[str]  # paragraphs
    photos_title: str
    photos: list[Photo]
    votes_title: str
    votes: Table | None


@dataclass(frozen=True)
class LedgerText:
    title: str
    cover: list[str]  # lines under the title, the watermark last
    watermark: str
    summary_title: str
    summary: Table
    meetings_title: str
    meetings: list[MeetingText]
    none: str  # said when the year had no meeting


def ledger_text(renderer: Renderer, ledger: Ledger, mark: Msg) -> LedgerText:
    def t(key: str, **params: object) -> str:
        return renderer.render(Msg(key, **params))

    watermark = renderer.render(mark)
    cover = [
        t("ledger.made_at", at=ledger.made_at),
        t("ledger.rules", version=ledger.rules.version, basis=ledger.rules.basis),
        t("ledger.meeting_count", count=len(ledger.meetings)),
        watermark,
    ]
    summary = Table(
        [t("ledger.col.kind"), t("ledger.col.period"), t("ledger.col.need"),
         t("ledger.col.held"), t("ledger.col.state")],
        [
            [
                t(f"kind.{row.rule.kind}"),
                renderer.render(period_name(row.rule, row.period)),
                str(row.rule.at_least),
                str(row.held),
                t("ledger.state.met") if row.met
                else t("ledger.state.missed") if row.ended else t("ledger.state.open"),
            ]
            for row in ledger.summary
        ],
    )  # fmt: skip
    return LedgerText(
        title=t("ledger.title", branch=ledger.branch, year=ledger.year),
        cover=cover,
        watermark=watermark,
        summary_title=t("ledger.summary_title"),
        summary=summary,
        meetings_title=t("ledger.meetings_title"),
        meetings=[_meeting(renderer, n, m) for n, m in enumerate(ledger.meetings, 1)],
        none=t("ledger.no_meetings"),
    )


def _names(people: list[Person], renderer: Renderer) -> str:
    shown = [
        renderer.render(Msg("ledger.late_name", name=p.name)) if p.late else p.name for p in people
    ]
    return renderer.render(Msg("ledger.names", count=len(people), names=Series(shown) or "-"))


def _meeting(renderer: Renderer, number: int, meeting: LedgerMeeting) -> MeetingText:
    def t(key: str, **params: object) -> str:
        return renderer.render(Msg(key, **params))

    kind = t(f"kind.{meeting.kind}")
    minutes = meeting.minutes
    facts = [
        (t("ledger.fact.kind"), kind + (t("ledger.school_wide") if meeting.school_wide else "")),
        (t("ledger.fact.time"), t("ledger.time", at=meeting.starts_at, length=meeting.length)),
        (t("ledger.fact.place"), meeting.place or "-"),
        (t("ledger.fact.link"), meeting.online_link or "-"),
        (t("ledger.fact.host"), (minutes and minutes.host) or "-"),
        (t("ledger.fact.recorder"), (minutes and minutes.recorder) or "-"),
        (t("ledger.fact.topics"), t("ledger.topics", topics=Series(minutes.topics))
         if minutes and minutes.topics else "-"),
    ]  # fmt: skip
    rows = [[t("ledger.att.expected"), _names(meeting.expected, renderer)]]
    rows += [[t(key), _names(meeting.attendance[p], renderer)] for key, p in ROWS]
    rows.append([t("ledger.att.late"), _names(meeting.late, renderer)])
    if meeting.unrecorded:
        rows.append([t("ledger.att.unrecorded"), _names(meeting.unrecorded, renderer)])
    if minutes is None:
        paragraphs = [t("ledger.no_minutes")]
    else:
        paragraphs = [t("ledger.version", version=minutes.version, versions=minutes.versions,
                        at=minutes.submitted_at)]  # fmt: skip
        if minutes.document_name:
            paragraphs.append(t("ledger.document", name=minutes.document_name))
        paragraphs += [line for line in minutes.text.splitlines() if line.strip()]
    return MeetingText(
        heading=t("ledger.heading", number=number, kind=kind, title=meeting.title),
        facts=facts,
        attendance=Table([t("ledger.col.who"), t("ledger.col.names")], rows),
        minutes_title=t("ledger.minutes_title"),
        minutes=paragraphs,
        photos_title=t("ledger.photos_title", count=len(meeting.photos)),
        photos=meeting.photos,
        votes_title=t("ledger.votes_title"),
        votes=_votes(renderer, meeting.votes) if meeting.votes else None,
    )


def _votes(renderer: Renderer, votes: list[LedgerVote]) -> Table:
    def t(key: str, **params: object) -> str:
        return renderer.render(Msg(key, **params))

    headers = [t("ledger.col.subject"), t("ledger.col.matter"), t("ledger.col.for"),
               t("ledger.col.against"), t("ledger.col.abstain"), t("ledger.col.entitled"),
               t("ledger.col.result")]  # fmt: skip
    rows = []
    for vote in votes:
        r = vote.result
        outcome = (
            t("ledger.vote.open") if not vote.closed
            else t("ledger.vote.elected", count=len(r.get("elected", []))) if "elected" in r
            else t("ledger.vote.appraised", cast=r.get("cast", 0)) if "tally" in r
            else t("ledger.vote.passed") if r.get("passed") else t("ledger.vote.failed")
        )  # fmt: skip
        counts = [str(r.get(k, "-")) for k in ("for", "against", "abstain")]
        rows.append([vote.subject, t(f"vote.kind.{vote.kind}"), *counts, str(vote.entitled),
                     outcome])  # fmt: skip
    return Table(headers, rows)
