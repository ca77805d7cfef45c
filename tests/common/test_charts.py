"""Charts draw user text literally (a name like `$\\frac{1}{2}$ 张三` is not mathtext), a reply
or page never depends on its chart, fonts: the packaged Chinese font draws on a machine with
none installed, an installed CJK font is found even when matplotlib's font list missed it,
and characters no font can draw are logged once per process, not per glyph."""

import logging
import shutil
import subprocess
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from matplotlib import font_manager
from matplotlib.text import Text
from pylopdf_fonts_zh_cn import sans_path
from sqlalchemy import update

from bot.app.services import Services
from bot.web.pages import add_web_pages
from bot.web.server import build_web_app
from handlers.common import charts
from handlers.common.charts import Bars, panels_chart
from storage.enums import Role
from storage.models import Member
from tests.support.chat import Chat
from tests.support.evaluation import BRANCH, bind_member, history
from tests.support.surveys import full_ballots, new_survey
from tests.support.web import sign_in, staff

PNG = b"\x89PNG"
MATH_NAMES = ("$\\frac{1}{2}$ 张三", "$\\oops$ 李四", "$x^$", "$$", "a_b^c 王五")
FAILED_NOTE = "图表这次没能生成"


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The once-per-process warnings and the font lookup as in a new process."""
    monkeypatch.setattr(charts, "_said", set())
    charts.cjk_fonts.cache_clear()
    yield
    charts.cjk_fonts.cache_clear()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _zh_fontconfig() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True)
    return bool(listed.stdout.strip())


# --- literal text -------------------------------------------------------------------------


def test_every_text_a_chart_draws_is_literal() -> None:
    panels = [
        Bars("成员总分 $\\oops$", MATH_NAMES, [1, 2, 3, 4, 5], [f"{n} $" for n in range(5)]),
        Bars("$\\frac{1}{2}$", ["甲"], [1]),
    ]
    with charts._render_lock:
        figure = charts._figure(panels)
    drawn = [t for t in figure.findobj(Text) if t.get_text()]
    assert {t.get_text() for t in drawn} >= {"成员总分 $\\oops$", "$\\frac{1}{2}$", "a_b^c 王五"}
    assert all(not t.get_parse_math() and not t.get_usetex() for t in drawn)
    assert panels_chart(panels).startswith(PNG)  # $\oops$ and $x^$ would not parse as math


async def test_report_and_web_page_draw_a_mathtext_name(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    await history(chat)
    async with chat.services.sessions.begin() as session:
        for old, new in (("丙", MATH_NAMES[0]), ("乙", MATH_NAMES[1])):
            await session.execute(update(Member).where(Member.name == old).values(name=new))
    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/report 2026-09..2026-10")
    assert MATH_NAMES[0] in text and len(secretary.replies) == 2
    assert (secretary.replies[1].image or b"").startswith(PNG)
    viewer = await staff(chat, "王书记")
    await sign_in(client, services, "王书记", viewer)
    branch = await chat.branch(BRANCH)
    page = await client.get(f"/web/branch/{branch.id}?period=2026-09..2026-10")
    html = await page.text()
    assert page.status == 200 and MATH_NAMES[0] in html
    assert 'id="chart" src="data:image/png;base64,' in html


# --- a failing chart ----------------------------------------------------------------------


def _failing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(panels: Any) -> Any:
        raise RuntimeError("the chart broke")

    monkeypatch.setattr(charts, "_figure", fail)


def _chart_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "handlers.common.charts" and r.exc_info]


async def test_a_failing_chart_leaves_the_reply_with_a_note(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await history(chat)
    secretary = await bind_member(chat, "甲")
    _failing(monkeypatch)
    text = await secretary.say("/report 2026-09..2026-10")
    assert "化学化工学院第一党支部 考评 2026-09..2026-10" in text and FAILED_NOTE in text
    assert [r.image for r in secretary.replies] == [None, None]
    (logged,) = _chart_failures(caplog)
    assert "/report branch" in logged.getMessage() and "2026-09..2026-10" in logged.getMessage()
    text = await secretary.say("/myreport 2026-09..2026-10")
    assert "甲 的考评" in text and FAILED_NOTE in text
    assert len(_chart_failures(caplog)) == 2


async def test_a_failing_chart_leaves_the_survey_results(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    survey_id = await new_survey(chat, full_ballots())
    _failing(monkeypatch)
    text = await secretary.say(f"/survey_results {survey_id}")
    assert f"问卷 #{survey_id}「下学期党课选题调查」" in text and FAILED_NOTE in text
    assert "高频词（括号内为提到它的回答数）" in text
    assert not [r for r in secretary.replies if r.image is not None]
    assert len(_chart_failures(caplog)) == 2  # the choices chart and the words chart


async def test_a_failing_chart_leaves_the_web_page(
    chat: Chat,
    services: Services,
    client: TestClient[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    viewer = await staff(chat, "王书记")
    await chat.enrol("李党员")
    await sign_in(client, services, "王书记", viewer)
    _failing(monkeypatch)
    branch = await chat.branch(BRANCH)
    page = await client.get(f"/web/branch/{branch.id}")
    html = await page.text()
    assert page.status == 200 and "李党员" in html and 'id="chart"' not in html
    assert 'id="chart-failed"' in html and "图表这次没能生成" in html
    (logged,) = _chart_failures(caplog)
    assert f"web scorecard branch {branch.id}" in logged.getMessage()


# --- fonts and missing glyphs -------------------------------------------------------------


def _glyph_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "no glyph" in r.getMessage()]


@pytest.mark.usefixtures("fresh_warnings")
def test_missing_glyphs_are_logged_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for label in ("李四\U00020000", "王五\U00020001\U00020002", "赵六\U00020003"):
            assert panels_chart([Bars("成员", [label], [1])]).startswith(PNG)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    (logged,) = _glyph_logs(caplog)
    assert "\U00020000" in logged.getMessage()


@pytest.mark.usefixtures("fresh_warnings")
def test_chinese_labels_have_their_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    if charts.cjk_font() is None:
        pytest.skip("no Chinese font installed (e.g. apt-get install fonts-wqy-microhei)")
    with caplog.at_level(logging.WARNING):
        image = panels_chart(
            [Bars("支部各项指标完成率（%）", ["组织生活出勤", "每日答题"], [80, 50])]
        )
    assert image.startswith(PNG) and not _glyph_logs(caplog)


@pytest.mark.usefixtures("fresh_warnings")
def test_a_cjk_font_missing_from_matplotlibs_list_is_found(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if not _zh_fontconfig():
        pytest.skip("fontconfig knows no Chinese font (e.g. apt-get install fonts-wqy-microhei)")
    monkeypatch.setattr(charts, "packaged_font", lambda: ())  # installed with --no-deps
    manager = font_manager.fontManager
    zh = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    paths = {line.strip().rstrip(":").strip() for line in zh.splitlines()}
    stale = [entry for entry in manager.ttflist if entry.fname not in paths]
    monkeypatch.setattr(manager, "ttflist", stale)  # as if cached before the font came
    with caplog.at_level(logging.WARNING):
        found = charts.cjk_font()
        image = panels_chart([Bars("成员总分", ["张三", "李四"], [1, 2])])
    assert found is not None and image.startswith(PNG)
    assert not _glyph_logs(caplog) and "no Chinese font" not in caplog.text


@pytest.mark.usefixtures("fresh_warnings")
def test_charts_draw_chinese_on_a_machine_with_no_font_installed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    manager = font_manager.fontManager
    own = str(Path(font_manager.__file__).parent)  # matplotlib's own DejaVu fonts stay
    monkeypatch.setattr(manager, "ttflist", [e for e in manager.ttflist if e.fname.startswith(own)])
    monkeypatch.setenv("PATH", "")  # no fc-list: fontconfig knows no font either
    with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = panels_chart(
            [Bars("支部各项指标完成率（%）", ["组织生活出勤", "每日答题，错题本"], [80, 50])]
        )
    chosen = font_manager.findfont(charts._font(), fallback_to_default=False)
    assert Path(chosen) == sans_path()  # Noto Sans SC, from the wheel
    assert image.startswith(PNG) and not _glyph_logs(caplog)
    assert "no Chinese font" not in caplog.text
    assert not [w for w in caught if "missing from font" in str(w.message)]
    (tmp_path / "chart.png").write_bytes(image)  # to look at when it fails
