"""The ledger as PDF on the house page (bot/reports/pdf.py), laid out as the Word file is.
The watermark is on the cover, in every page's footer and in the document's properties."""

import io

from bot.reports.ledger.images import fitted
from bot.reports.ledger.text import LedgerText, MeetingText, Table
from bot.reports.pdf import MARGIN, HousePdf

HEIGHT_SHARE = 0.6  # a photo takes at most this much of the page's height


def ledger_pdf(text: LedgerText) -> bytes:
    pdf = HousePdf(text.title, text.watermark)
    pdf.add_page()
    pdf.ln(60)
    pdf.line_of(text.title, "title", "C", 4)
    pdf.ln(10)
    for line in text.cover:
        pdf.line_of(line, "body", "C", 2)
    pdf.add_page()
    pdf.line_of(text.summary_title, "h1", gap=3)
    _table(pdf, text.summary)
    pdf.ln(4)
    pdf.line_of(text.meetings_title, "h1", gap=3)
    if not text.meetings:
        pdf.line_of(text.none)
    for meeting in text.meetings:
        _meeting(pdf, meeting)
    return bytes(pdf.output())


def _table(pdf: HousePdf, table: Table, widths: tuple[int, ...] | None = None) -> None:
    pdf.grid([table.headers, *table.rows], widths)


def _meeting(pdf: HousePdf, meeting: MeetingText) -> None:
    pdf.ln(3)
    pdf.line_of(meeting.heading, "h2", gap=3)
    for label, value in meeting.facts:
        pdf.line_of(f"{label}：{value}")
    pdf.ln(2)
    _table(pdf, meeting.attendance, (1, 4))
    pdf.ln(2)
    pdf.line_of(meeting.minutes_title, "h3", gap=2)
    for paragraph in meeting.minutes:
        pdf.line_of(paragraph, gap=2)
    if meeting.photos:
        pdf.ln(2)
        pdf.line_of(meeting.photos_title, "h3", gap=2)
        width = pdf.w - 2 * MARGIN
        height = (pdf.h - 2 * MARGIN) * HEIGHT_SHARE
        for photo in meeting.photos:
            fit = fitted(photo, width, height)
            if fit is None:
                pdf.line_of(photo.name)
                continue
            pdf.image(io.BytesIO(fit.content), w=fit.width, h=fit.height)
            pdf.ln(2)
    if meeting.votes is not None:
        pdf.ln(2)
        pdf.line_of(meeting.votes_title, "h3", gap=2)
        _table(pdf, meeting.votes)
