"""Charts as PNG bytes: horizontal bars, alone or one panel per question, in a CJK font.

Charts carry only what they are given (question and option texts, words, numbers), never
wording of their own: what a chart shows is said in the caption of the message that
carries it, which the bot renders in the reader's language.

matplotlib is imported inside the functions (it takes most of a second), and rendering is
serialised by a lock: matplotlib objects are not safe to share between threads, and
callers may render in a worker thread to keep the event loop free.
"""

import io
import logging
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

# The first of these that is installed draws the Chinese text (Debian: fonts-wqy-microhei).
CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
)
FALLBACK_FONT = "DejaVu Sans"  # matplotlib's own: digits, Latin and symbols the CJK font lacks
BAR_COLOR = "#c8302c"  # Party red
WIDTH_IN = 6.4  # about the width of a phone screen in portrait, at DPI
DPI = 150
LABEL_WIDTH = 16  # display columns (a Chinese character is two) before a label wraps
TITLE_WIDTH = 48
ROW_IN = 0.34  # height per line of bar labels
TITLE_LINE_IN = 0.22
PANEL_EXTRA_IN = 0.75  # title and margins of a panel

# Punctuation that may not begin a line (it stays at the end of the line before).
_NO_LINE_START = frozenset("，。、；：？！）》」』】,.;:?!)]%")
_render_lock = threading.Lock()


@dataclass(frozen=True)
class Bars:
    """One panel of horizontal bars, drawn top to bottom in the given order.

    `notes` are written at the end of each bar (default: the value itself)."""

    title: str
    labels: Sequence[str]
    values: Sequence[float]
    notes: Sequence[str] | None = None


def bar_chart(bars: Bars) -> bytes:
    """One horizontal bar chart (e.g. the most mentioned words of open answers)."""
    return panels_chart([bars])


def panels_chart(panels: Sequence[Bars]) -> bytes:
    """One image with a panel of horizontal bars per item (e.g. per survey question),
    stacked so that it reads on a phone; each panel is as tall as its bars need."""
    if not panels:
        raise ValueError("a chart needs at least one panel")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    heights = [_panel_height(p) for p in panels]
    with _render_lock:
        layout = ConstrainedLayoutEngine(h_pad=0.12, hspace=0.04)  # air between panels
        figure = Figure(figsize=(WIDTH_IN, sum(heights)), dpi=DPI, layout=layout)
        FigureCanvasAgg(figure)
        axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)
        font = _font()
        for ax, panel in zip(axes[:, 0], panels, strict=True):
            _draw(ax, panel, font)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _panel_height(panel: Bars) -> float:
    lines = sum(len(wrap(label, LABEL_WIDTH)) for label in panel.labels) or 1
    title_lines = len(wrap(panel.title, TITLE_WIDTH))
    return PANEL_EXTRA_IN + TITLE_LINE_IN * title_lines + ROW_IN * lines


def _draw(ax: "Axes", panel: Bars, font: "FontProperties") -> None:
    positions = list(range(len(panel.labels)))
    values = [float(v) for v in panel.values]
    bars = ax.barh(positions, values, color=BAR_COLOR, height=0.6)
    ax.invert_yaxis()  # the first label on top, as it is listed
    labels = ["\n".join(wrap(label, LABEL_WIDTH)) for label in panel.labels]
    ax.set_yticks(positions, labels, fontproperties=font, fontsize=10)
    notes = list(panel.notes) if panel.notes is not None else [f"{v:g}" for v in values]
    ax.bar_label(bars, labels=notes, padding=4, fontproperties=font, fontsize=9)
    top = max(values, default=0.0)
    ax.set_xlim(0, top * 1.35 if top > 0 else 1)  # room for the notes after the longest bar
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    title = "\n".join(wrap(panel.title, TITLE_WIDTH))
    ax.set_title(title, loc="left", fontproperties=font, fontsize=12)


def _font() -> "FontProperties":
    from matplotlib.font_manager import FontProperties

    families = [name for name in (cjk_font(),) if name] + [FALLBACK_FONT]
    return FontProperties(family=families)


@cache
def cjk_font() -> str | None:
    """The installed font that draws Chinese, or None (a warning, once per process)."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning(
        "no Chinese font for charts (tried %s): Chinese text in charts will show as boxes; "
        "install one, e.g. apt-get install fonts-wqy-microhei",
        ", ".join(CJK_FONTS),
    )
    return None


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` display columns (a Chinese character takes two),
    broken at spaces where there are any and anywhere between Chinese characters."""
    lines: list[str] = []
    line, used = "", 0
    for word in _pieces(text):
        size = sum(_columns(c) for c in word)
        if line and used + size > width and word[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = word.lstrip(), sum(_columns(c) for c in word.lstrip())
        else:
            line, used = line + word, used + size
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _pieces(text: str) -> list[str]:
    """Units that are not broken: a Latin word with its leading space, or one wide character."""
    pieces: list[str] = []
    for char in " ".join(text.split()):
        wide = _columns(char) == 2
        if pieces and not wide and char != " " and _columns(pieces[-1][-1]) == 1:
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1
