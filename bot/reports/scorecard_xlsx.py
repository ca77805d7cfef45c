"""The scorecards as an Excel workbook (bot/reports/scorecard.py imports this only when one
is asked for): a summary sheet with the notes, then members, meetings, study and notices."""

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.scorecard import (
    MEMBER_COLUMNS,
    file_notes,
    member_headers,
    member_values,
    shown_score,
)
from bot.reports.xlsx import header_row
from handlers.common.cells import xlsx_append, xlsx_bytes
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg
from handlers.evaluation.scorecard import BranchScorecard, IndicatorScore, MemberScore
from handlers.evaluation.text import figure

WARNING_FONT = Font(bold=True, color="C00000", size=14)


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


def scorecard_xlsx(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
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
    notes = file_notes(renderer, cards, mark)
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
    headers = member_headers(renderer, cards[0]) if cards else []
    sheet = _sheet(book, title, headers, _widths(headers))
    for card in cards:
        for m in card.members:
            xlsx_append(sheet, member_values(renderer, card, m))
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
                    shown_score(renderer, accuracy) if accuracy else None,
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
                    shown_score(renderer, found),
                    round(seconds / 60, 1) if seconds is not None else None,
                ],
            )
    _percent(sheet, [5])
    sheet.auto_filter.ref = sheet.dimensions
