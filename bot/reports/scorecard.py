"""Scorecard files (考评表) in Excel, CSV, JSON or PNG, for `branchbot report` and the web
page's downloads. Every file carries the export's watermark, the reminder that the figures
support the branch's judgement, and, when the trace chain is broken, the warning that they
cannot be trusted."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.xlsx import header_row
from handlers.common.cells import csv_bytes, xlsx_append, xlsx_bytes
from handlers.common.charts import Bars, panels_chart
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg
from handlers.evaluation.scorecard import BranchScorecard, IndicatorScore, MemberScore
from handlers.evaluation.text import chain_note, chain_warning, figure, why

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "png": "image/png",
}
FORMATS = tuple(MIME)
WARNING_FONT = Font(bold=True, color="C00000", size=14)


def scorecard_file(
    fmt: str, renderer: Renderer, cards: list[BranchScorecard], mark: Msg
) -> tuple[bytes, str]:
    """The scorecards in one file of format `fmt` (xlsx, csv, json, png) and its mime type."""
    if fmt not in MIME:
        raise ValueError(f"unknown scorecard format {fmt!r}")
    writer: Callable[[Renderer, list[BranchScorecard], Msg], bytes] = {
        "xlsx": _xlsx,
        "csv": _csv,
        "json": _json,
        "png": _png,
    }[fmt]
    return writer(renderer, cards, mark), MIME[fmt]


def _notes(renderer: Renderer, cards: Sequence[BranchScorecard], mark: Msg) -> list[str]:
    """The lines heading every file: a broken chain first, then what the figures are for."""
    lines = []
    warning = chain_warning(cards[0].chain) if cards else None
    note = chain_note(cards[0].chain) if cards else None
    lines += [renderer.render(m) for m in (warning, note) if m is not None]
    if cards:
        card = cards[0]
        lines.append(
            renderer.render(
                Msg("evaluation.file_period", period=card.period.label, version=card.version)
            )
        )
    lines.append(renderer.render(Msg("evaluation.disclaimer")))
    lines.append(renderer.render(mark))
    return lines


def _cell(renderer: Renderer, found: IndicatorScore) -> Any:
    return renderer.render(why(found.excluded)) if found.excluded else found.rate


def _member_values(renderer: Renderer, card: BranchScorecard, m: MemberScore) -> list[Any]:
    values: list[Any] = [
        card.branch_name,
        m.name,
        renderer.render(Msg(f"stage.{m.stage}")),
        m.total if m.rank is not None else None,
        m.rank,
        m.previous_total,
        m.trend,
    ]
    for indicator in card.indicators:
        found = m.indicators[indicator.id]
        values += [figure(found.raw), found.base, _cell(renderer, found), found.points]
    return values


def _member_headers(renderer: Renderer, card: BranchScorecard) -> list[str]:
    heads = [renderer.render(Msg(f"evaluation.col.{k}")) for k in MEMBER_COLUMNS]
    for indicator in card.indicators:
        for part in ("raw_of", "base_of", "rate_of", "points_of"):
            heads.append(renderer.render(Msg(f"evaluation.col.{part}", name=indicator.name)))
    return heads


MEMBER_COLUMNS = ("branch", "name", "stage", "total", "rank", "previous", "trend")


def _json(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    warning = chain_warning(cards[0].chain) if cards else None
    out = {
        "watermark": renderer.render(mark),
        "warning": renderer.render(warning) if warning else None,
        "disclaimer": renderer.render(Msg("evaluation.disclaimer")),
        "chain": {
            "ok": cards[0].chain.ok if cards else True,
            "checked_to": cards[0].chain.checked_to if cards else 0,
            "bad_id": cards[0].chain.bad_id if cards else None,
            "walked_at": cards[0].chain.walked_at if cards else None,
            "walked_to": cards[0].chain.walked_to if cards else 0,
        },
        "branches": [_json_card(renderer, c) for c in cards],
    }
    return json.dumps(out, ensure_ascii=False, indent=2, default=str).encode()


def _json_card(renderer: Renderer, card: BranchScorecard) -> dict[str, Any]:
    return {
        "branch": card.branch_name,
        "period": {
            "label": card.period.label,
            "since": card.period.since.isoformat(),
            "until": card.period.until.isoformat(),
        },
        "version": card.version,
        "indicators": [
            {
                "id": i.id,
                "name": i.name,
                "group": i.group,
                "weight": i.weight,
                "target": i.target,
                "description": i.description,
            }
            for i in card.indicators
        ],
        "total": card.total,
        "trend": card.trend,
        "rates": card.branch_rates,
        "median_ack_seconds": card.median_ack_seconds,
        "members": [
            {
                "id": m.member_id,
                "name": m.name,
                "stage": m.stage,
                "total": m.total if m.rank is not None else None,
                "rank": m.rank,
                "previous_total": m.previous_total,
                "indicators": {
                    key: {
                        "raw": s.raw,
                        "base": s.base,
                        "rate": s.rate,
                        "points": s.points,
                        "excluded": s.excluded,
                        "why": renderer.render(why(s.excluded)) if s.excluded else None,
                        "median_seconds": s.median_seconds,
                    }
                    for key, s in m.indicators.items()
                },
            }
            for m in card.members
        ],
        "meetings": [
            {
                "id": r.meeting_id,
                "title": r.title,
                "kind": r.kind,
                "starts_at": r.starts_at.isoformat(),
                "counts": r.counts,
                "absent": r.absent,
                "excused": r.excused,
                "late": r.late,
            }
            for r in card.meetings
        ],
    }


def _csv(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    rows: list[list[Any]] = [[line] for line in _notes(renderer, cards, mark)]
    if cards:
        rows.append(_member_headers(renderer, cards[0]))
    rows += [_member_values(renderer, card, m) for card in cards for m in card.members]
    return csv_bytes(rows)


def _png(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    title = "\n".join(_notes(renderer, cards, mark))
    if len(cards) == 1:
        ranked = cards[0].ranked
        labels = [m.name for m in ranked]
        values = [m.total for m in ranked]
    else:
        labels = [c.branch_name for c in cards]
        values = [c.total or 0.0 for c in cards]
    if not labels:
        labels, values = ["-"], [0.0]
    return panels_chart([Bars(title, labels, values, [f"{v:g}" for v in values])])


# ---- Excel -------------------------------------------------------------------------------


def _sheet(book: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]) -> Worksheet:
    """A new sheet with the candidates report's header style (red, bold, frozen)."""
    sheet = book.create_sheet(title)
    header_row(sheet, headers, widths)
    return sheet


def _percent(sheet: Worksheet, columns: Sequence[int]) -> None:
    for index in columns:
        for cell in sheet[get_column_letter(index)][1:]:
            if isinstance(cell.value, float | int):
                cell.number_format = "0.0%"


def _widths(headers: Sequence[str]) -> list[int]:
    return [max(8, min(24, len(h) * 2 + 2)) for h in headers]


def _xlsx(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    book = Workbook()
    line = renderer.render(mark)
    author = renderer.render(mark.params["who"]) if "who" in mark.params else line
    book.properties.creator = book.properties.lastModifiedBy = author
    book.properties.description = book.properties.keywords = line
    default = book.active
    assert default is not None
    book.remove(default)
    label = {
        k: renderer.render(Msg(f"evaluation.sheet_{k}"))
        for k in ("summary", "members", "meetings", "study", "notices")
    }
    _summary_sheet(book, label["summary"], renderer, cards, mark)
    _members_sheet(book, label["members"], renderer, cards)
    _meetings_sheet(book, label["meetings"], renderer, cards)
    _study_sheet(book, label["study"], renderer, cards)
    _notices_sheet(book, label["notices"], renderer, cards)
    for sheet in book.worksheets:
        # printed pages carry the watermark too ("&" starts a footer code: "&&" is one "&")
        sheet.oddFooter.center.text = line.replace("&", "&&")
    return xlsx_bytes(book)


def _heads(renderer: Renderer, keys: Sequence[str], **params: Any) -> list[str]:
    return [renderer.render(Msg(f"evaluation.col.{k}", **params)) for k in keys]


def _summary_sheet(
    book: Workbook, title: str, renderer: Renderer, cards: list[BranchScorecard], mark: Msg
) -> None:
    indicators = cards[0].indicators if cards else []
    keys = ("branch", "members", "ranked", "total", "previous", "trend")
    headers = _heads(renderer, keys) + [i.name for i in indicators]
    sheet = _sheet(book, title, headers, _widths(headers))
    for card in cards:
        row: list[Any] = [
            card.branch_name,
            len(card.members),
            len(card.ranked),
            card.total,
            card.previous.total if card.previous else None,
            card.trend,
        ]
        xlsx_append(sheet, row + [card.branch_rates.get(i.id) for i in indicators])
    _percent(sheet, range(len(keys) + 1, len(headers) + 1))
    sheet.auto_filter.ref = sheet.dimensions
    sheet.append([])
    notes = _notes(renderer, cards, mark)
    for number, note in enumerate(notes):
        xlsx_append(sheet, [note])
        cell = sheet.cell(sheet.max_row, 1)
        broken = number == 0 and cards and not cards[0].chain.ok
        cell.font = WARNING_FONT if broken else Font(bold=True)
    sheet.append([])
    for i in indicators:
        xlsx_append(
            sheet,
            [
                i.name,
                renderer.render(
                    Msg("evaluation.file_rule", weight=f"{i.weight:g}", target=f"{i.target:.0%}")
                ),
                i.description,
            ],
        )


def _members_sheet(
    book: Workbook, title: str, renderer: Renderer, cards: list[BranchScorecard]
) -> None:
    headers = _member_headers(renderer, cards[0]) if cards else []
    sheet = _sheet(book, title, headers, _widths(headers))
    for card in cards:
        for m in card.members:
            xlsx_append(sheet, _member_values(renderer, card, m))
    count = len(cards[0].indicators) if cards else 0
    _percent(sheet, [len(MEMBER_COLUMNS) + 4 * i + 3 for i in range(count)])
    sheet.auto_filter.ref = sheet.dimensions


def _meetings_sheet(
    book: Workbook, title: str, renderer: Renderer, cards: list[BranchScorecard]
) -> None:
    keys = (
        "branch",
        "date",
        "meeting",
        "kind",
        "expected",
        "attended",
        "rate",
        "late_count",
        "excused_count",
        "absent_count",
        "absent_names",
        "excused_names",
    )
    headers = _heads(renderer, keys, name="")
    sheet = _sheet(book, title, headers, [*_widths(headers[:10]), 30, 30])
    for card in cards:
        for r in card.meetings:
            local = r.starts_at.astimezone(renderer.timezone)
            xlsx_append(
                sheet,
                [
                    card.branch_name,
                    local.strftime("%Y-%m-%d %H:%M"),
                    r.title,
                    renderer.render(Msg(f"kind.{r.kind}")),
                    r.expected,
                    r.attended,
                    r.attended / r.expected if r.expected else None,
                    r.counts.get("late", 0),
                    r.counts.get("excused", 0),
                    r.counts.get("absent", 0),
                    "、".join(r.absent),
                    "、".join(r.excused),
                ],
            )
    _percent(sheet, [7])
    sheet.auto_filter.ref = sheet.dimensions


def _pick(m: MemberScore, card: BranchScorecard, formula: str) -> IndicatorScore | None:
    found = next((i for i in card.indicators if i.formula == formula), None)
    return m.indicators[found.id] if found else None


def _study_sheet(
    book: Workbook, title: str, renderer: Renderer, cards: list[BranchScorecard]
) -> None:
    keys = ("branch", "name", "learned", "learned_base", "quiz_days", "days", "accuracy")
    headers = _heads(renderer, keys)
    sheet = _sheet(book, title, headers, _widths(headers))
    for card in cards:
        for m in card.members:
            learned = _pick(m, card, "learned")
            days = _pick(m, card, "quiz_days")
            accuracy = _pick(m, card, "quiz_accuracy")
            xlsx_append(
                sheet,
                [
                    card.branch_name,
                    m.name,
                    figure(learned.raw) if learned else None,
                    learned.base if learned else None,
                    figure(days.raw) if days else None,
                    days.base if days else None,
                    _cell(renderer, accuracy) if accuracy else None,
                ],
            )
    _percent(sheet, [7])
    sheet.auto_filter.ref = sheet.dimensions


def _notices_sheet(
    book: Workbook, title: str, renderer: Renderer, cards: list[BranchScorecard]
) -> None:
    keys = ("branch", "name", "delivered", "acknowledged", "ack_rate", "median_minutes")
    headers = _heads(renderer, keys)
    sheet = _sheet(book, title, headers, _widths(headers))
    for card in cards:
        for m in card.members:
            found = _pick(m, card, "notices")
            if found is None:
                continue
            seconds = found.median_seconds
            xlsx_append(
                sheet,
                [
                    card.branch_name,
                    m.name,
                    figure(found.raw),
                    found.base,
                    _cell(renderer, found),
                    round(seconds / 60, 1) if seconds is not None else None,
                ],
            )
    _percent(sheet, [5])
    sheet.auto_filter.ref = sheet.dimensions
