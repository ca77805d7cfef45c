"""Charts as PNG bytes: horizontal bars, alone or one panel per question, in a CJK font.

Charts carry only what they are given (question and option texts, words, numbers), never
wording of their own: what a chart shows is said in the caption of the message that
carries it, which the bot renders in the reader's language.

Every text is drawn literally: names and titles come from users, and matplotlib would
otherwise read `$...$` as mathtext (and fail on one it cannot parse). A chart is an extra:
`chart_or_none` and `chart_reply` keep a reply or a page whole when its chart fails.

Fonts: Noto Sans SC from the pylopdf-fonts-zh-cn wheel (SIL Open Font License 1.1, a
dependency, as for the ledger's PDF), so a machine with no font installed draws Chinese too;
then the installed CJK fonts of CJK_FONTS (or, if matplotlib's font list missed them, the
Chinese fonts fontconfig knows), then DejaVu Sans. Characters none of them can draw are
logged once per process, and matplotlib's own per-glyph warnings are silenced.

matplotlib is imported inside the functions (it takes most of a second), and rendering is
serialised by a lock: matplotlib objects are not safe to share between threads, and
callers may render in a worker thread to keep the event loop free.
"""

import io
import logging
import subprocess
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from handlers.core.messages import Msg, Reply

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

# After the packaged font, the first of these that is installed draws what it lacks.
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
# Every text a chart draws: literal, never mathtext or LaTeX.
LITERAL: dict[str, Any] = {"parse_math": False, "usetex": False}
# matplotlib's warning for each character its fonts lack (checked once per chart instead).
_GLYPH_WARNING = r"Glyph \d+ .* missing from font"
_said: set[str] = set()  # the once-per-process warnings already logged


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
    with _render_lock:
        _check_glyphs(panels)
        # The glyph check above says it once; matplotlib would say it for every character.
        warnings.filterwarnings("ignore", _GLYPH_WARNING, UserWarning, module=__name__)
        figure = _figure(panels)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _figure(panels: Sequence[Bars]) -> "Figure":
    """The drawn figure, one panel of bars under another (call it holding the render lock)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    heights = [_panel_height(p) for p in panels]
    layout = ConstrainedLayoutEngine(h_pad=0.12, hspace=0.04)  # air between panels
    figure = Figure(figsize=(WIDTH_IN, sum(heights)), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)
    font = _font()
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        _draw(ax, panel, font)
    return figure


def chart_or_none(about: str, draw: Callable[..., bytes], *args: Any) -> bytes | None:
    """`draw(*args)`, or None if it fails: a chart never costs the reply or the page it
    illustrates. The failure is logged once, with `about` (which chart, for whom)."""
    try:
        return draw(*args)
    except Exception:  # a chart may fail in many ways inside matplotlib; none is fatal
        log.exception("chart not drawn (%s); the text goes without it", about)
        return None


def chart_reply(image: bytes | None, caption: Msg) -> Reply:
    """The chart with its caption, or, when it could not be drawn, a short note saying so."""
    if image is None:
        return Reply(Msg("chart.failed"))
    return Reply(caption, image=image)


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
    ax.set_yticks(positions, labels, fontproperties=font, fontsize=10, **LITERAL)
    notes = _notes(panel)
    ax.bar_label(bars, labels=notes, padding=4, fontproperties=font, fontsize=9, **LITERAL)
    top = max(values, default=0.0)
    ax.set_xlim(0, top * 1.35 if top > 0 else 1)  # room for the notes after the longest bar
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    title = "\n".join(wrap(panel.title, TITLE_WIDTH))
    ax.set_title(title, loc="left", fontproperties=font, fontsize=12, **LITERAL)


def _notes(panel: Bars) -> list[str]:
    if panel.notes is not None:
        return list(panel.notes)
    return [f"{float(v):g}" for v in panel.values]


def _texts(panel: Bars) -> Iterator[str]:
    yield panel.title
    yield from panel.labels
    yield from _notes(panel)


def _font() -> "FontProperties":
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=list(families()))


def families() -> tuple[str, ...]:
    """The font families charts draw with, in order: the CJK fonts, then DejaVu Sans."""
    return (*cjk_fonts(), FALLBACK_FONT)


def cjk_font() -> str | None:
    """The font that draws Chinese first, or None."""
    found = cjk_fonts()
    return found[0] if found else None


@cache
def cjk_fonts() -> tuple[str, ...]:
    """The fonts that draw Chinese, preferred first: the packaged one, then the installed
    ones; none is a warning, once per process."""
    found = tuple(dict.fromkeys(packaged_font() + _installed_cjk()))
    if not found:
        log.warning(
            "no Chinese font for charts (the pylopdf-fonts-zh-cn package, %s and fontconfig): "
            "Chinese text in charts will show as boxes; pip install pylopdf-fonts-zh-cn",
            ", ".join(CJK_FONTS),
        )
    return found


def packaged_font() -> tuple[str, ...]:
    """The family of the wheel's Noto Sans SC, added to matplotlib's font list; nothing when
    the package is missing (installed with --no-deps: the system's fonts must do)."""
    try:
        from pylopdf_fonts_zh_cn import sans_path
    except ImportError:
        return ()
    from matplotlib import font_manager

    path = str(sans_path())
    manager = font_manager.fontManager
    if not any(entry.fname == path for entry in manager.ttflist):
        manager.addfont(path)
    return tuple(dict.fromkeys(e.name for e in manager.ttflist if e.fname == path))


def _installed_cjk() -> tuple[str, ...]:
    """Installed fonts that draw Chinese: those of CJK_FONTS that matplotlib knows, else the
    Chinese fonts fontconfig knows (matplotlib's font list is cached, and misses a font
    installed after the cache was built)."""
    found = _known(CJK_FONTS)
    if not found:
        extra = _fontconfig_cjk()
        found = _known(CJK_FONTS) or extra
    return found


def _known(names: Sequence[str]) -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return tuple(name for name in names if name in installed)


def _fontconfig_cjk() -> tuple[str, ...]:
    """The fonts fontconfig says cover Chinese, added to matplotlib's list; their names."""
    from matplotlib import font_manager

    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):  # no fontconfig (not Linux): nothing more
        return ()
    paths = [line.strip().rstrip(":").strip() for line in listed.splitlines()]
    manager = font_manager.fontManager
    known = {entry.fname for entry in manager.ttflist}
    for path in paths:
        if path and path not in known and path.lower().endswith((".ttf", ".otf", ".ttc")):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                log.info("charts: could not read the font %s", path)
    chosen = set(paths)
    names = [entry.name for entry in manager.ttflist if entry.fname in chosen]
    return tuple(dict.fromkeys(names))


@cache
def _coverage(names: tuple[str, ...]) -> frozenset[int]:
    """The code points the fonts of `names` have glyphs for."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    codes: set[int] = set()
    for name in names:
        entry = next((e for e in font_manager.fontManager.ttflist if e.name == name), None)
        if entry is not None:
            codes.update(FT2Font(entry.fname, face_index=entry.index).get_charmap())
    return frozenset(codes)


def _check_glyphs(panels: Sequence[Bars]) -> None:
    """Log, once per process, the characters no chart font can draw (they show as boxes)."""
    if "glyphs" in _said:
        return
    covered = _coverage(families())
    text = {char for panel in panels for line in _texts(panel) for char in line}
    missing = sorted(c for c in text if not c.isspace() and ord(c) not in covered)
    if missing:
        _said.add("glyphs")
        log.warning(
            "charts: the fonts %s have no glyph for %r, drawn as boxes (said once per process)",
            ", ".join(families()),
            "".join(missing[:20]),
        )


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
