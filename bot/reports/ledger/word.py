"""The ledger as a Word document (python-docx): the cover, the summary table, then a section
per meeting with its facts, attendance table, minutes, photos at page width and votes. The
watermark is on the cover, in every page's header and in the document's properties.

Word draws the Chinese in the reader's own font (宋体 named for East Asian text); a .docx
embeds no font, unlike the PDF."""

import io

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt

from bot.reports.ledger.images import fitted
from bot.reports.ledger.text import LedgerText, MeetingText, Table

EAST_ASIAN_FONT = "宋体"
HEIGHT_SHARE = 0.6  # a photo takes at most this much of the page's height
PAGE = (Mm(210), Mm(297))  # A4
MARGIN = Mm(25)


def ledger_docx(text: LedgerText) -> bytes:
    doc = Document()
    _fonts(doc)
    props = doc.core_properties
    props.title, props.author, props.comments = text.title, "branchbot", text.watermark
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    section.header.paragraphs[0].text = text.watermark
    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_heading(text.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in text.cover:
        doc.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_section(WD_SECTION.NEW_PAGE)
    doc.add_heading(text.summary_title, level=1)
    _table(doc, text.summary)
    doc.add_heading(text.meetings_title, level=1)
    if not text.meetings:
        doc.add_paragraph(text.none)
    for meeting in text.meetings:
        _meeting(doc, meeting)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _fonts(doc: DocumentType) -> None:
    """Name an East Asian font on every style used, or Word may pick one without Chinese."""
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        style = doc.styles[name]
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    doc.styles["Normal"].font.size = Pt(10.5)  # 五号


def _table(doc: DocumentType, table: Table) -> None:
    grid = doc.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = value


def _meeting(doc: DocumentType, meeting: MeetingText) -> None:
    doc.add_heading(meeting.heading, level=2)
    for label, value in meeting.facts:
        line = doc.add_paragraph()
        line.add_run(f"{label}：").bold = True
        line.add_run(value)
    _table(doc, meeting.attendance)
    doc.add_heading(meeting.minutes_title, level=3)
    for paragraph in meeting.minutes:
        doc.add_paragraph(paragraph)
    if meeting.photos:
        doc.add_heading(meeting.photos_title, level=3)
        width = PAGE[0] - 2 * MARGIN
        height = (PAGE[1] - 2 * MARGIN) * HEIGHT_SHARE
        for photo in meeting.photos:
            fit = fitted(photo, width, height)
            if fit is None:
                doc.add_paragraph(photo.name)
                continue
            doc.add_picture(io.BytesIO(fit.content), width=Emu(int(fit.width)),
                            height=Emu(int(fit.height)))  # fmt: skip
    if meeting.votes is not None:
        doc.add_heading(meeting.votes_title, level=3)
        _table(doc, meeting.votes)
