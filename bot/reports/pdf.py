"""The house PDF page (fpdf2) the ledger and the papers (a member's annual record) share: A4,
Noto Sans SC from the pylopdf-fonts-zh-cn wheel (fpdf2 embeds the subset of glyphs used, so
the file reads the same on any machine, with no system font), the watermark and the page
number in every page's footer and in the document's properties, shaded table headings."""

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from pylopdf_fonts_zh_cn import sans_path

FONT = "notosanssc"
MARGIN = 20  # mm
# Headings shaded, not bold: the font has one weight (fpdf2 would refuse a bold it lacks).
HEADINGS = FontFace(emphasis="", fill_color=(230, 230, 230))
SIZES = {"title": 22, "h1": 16, "h2": 13, "h3": 11, "body": 10, "small": 8}


class HousePdf(FPDF):
    def __init__(self, title: str, watermark: str) -> None:
        super().__init__(format="A4")
        self.watermark = watermark
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.add_font(FONT, fname=str(sans_path()))
        self.set_title(title)
        self.set_author("branchbot")
        self.set_subject(watermark)

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

    def grid(self, rows: Sequence[Sequence[object]], widths: tuple[int, ...] | None = None) -> None:
        """A table: the first row its headings; numbers are written as they print."""
        self.set_font(FONT, size=SIZES["body"])
        with self.table(
            col_widths=widths, text_align="LEFT", line_height=6, headings_style=HEADINGS
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
