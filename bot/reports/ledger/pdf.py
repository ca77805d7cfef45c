"""The ledger as PDF (fpdf2), laid out as the Word file is. The Chinese is set in Noto Sans SC
from the pylopdf-fonts-zh-cn wheel and fpdf2 embeds the subset of glyphs used, so the file
reads the same on any machine, with no system font. The watermark is on the cover, in every
page's footer and in the document's properties."""

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from pylopdf_fonts_zh_cn import sans_path

from bot.reports.ledger.images import fitted
from bot.reports.ledger.text import LedgerText, MeetingText, Table

FONT = "notosanssc"
MARGIN = 20  # mm
HEIGHT_SHARE = 0.6  # a photo takes at most this much of the page's height
# Headings shaded, not bold: the font has one weight (fpdf2 would refuse a bold it lacks).
HEADINGS = FontFace(emphasis="", fill_color=(230, 230, 230))
SIZES = {"title": 22, "h1": 16, "h2": 13, "h3": 11, "body": 10, "small": 8}


class LedgerPdf(FPDF):
    def __init__(self, watermark: str, font: Path) -> None:
        super().__init__(format="A4")
        self.watermark = watermark
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.add_font(FONT, fname=str(font))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=SIZES["small"])
        self.set_text_color(120)
        self.cell(0, 5, f"{self.watermark}    {self.page_no()}", align="C")
        self.set_text_color(0)

    def line_of(self, text: str, size: str = "body", align: str = "L", gap: float = 1) -> None:
        self.set_font(FONT, size=SIZES[size])
        self.multi_cell(0, SIZES[size] * 0.5 + gap, text, align=align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip


def ledger_pdf(text: LedgerText) -> bytes:
    pdf = LedgerPdf(text.watermark, sans_path())
    pdf.set_title(text.title)
    pdf.set_author("branchbot")
    pdf.set_subject(text.watermark)
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


def _table(pdf: LedgerPdf, table: Table, widths: tuple[int, ...] | None = None) -> None:
    pdf.set_font(FONT, size=SIZES["body"])
    with pdf.table(
        col_widths=widths, text_align="LEFT", line_height=6, headings_style=HEADINGS
    ) as grid:
        for values in (table.headers, *table.rows):
            row = grid.row()
            for value in values:
                row.cell(value)


def _meeting(pdf: LedgerPdf, meeting: MeetingText) -> None:
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
