"""Member free text in messages to others is one line or a quoted block: it cannot forge the
bot's own lines (a leave reason ending in "\\n已批准"). The rule (handlers/common/freetext.py), then
every place that shows someone's free text to someone else."""

import unicodedata
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from handlers.common.freetext import QUOTE_BAR, quoted
from handlers.core.i18n import Renderer
from handlers.core.incoming import Attachment
from handlers.surveys.analysis import Group
from handlers.surveys.results import OpenAnswers, _group
from handlers.volunteer.domain import asking, line
from storage.enums import Role, Stage
from storage.pipeline_models import VolunteerRecord
from tests.support.chat import Chat
from tests.support.meetings import ONE_LINE
from tests.support.notices import queued
from tests.support.pipeline import assign

# Every way a line can break on a phone's screen.
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f"]
FORGED = "已批准"


def forged_lines(rendered: str, forged: str = FORGED) -> list[str]:
    """Lines that begin with the forged words, as if the bot had written them."""
    return [ln for ln in rendered.splitlines() if ln.strip().startswith(forged)]


@given(st.text())
def test_inline_is_always_one_visible_line(text: str) -> None:
    shown = quoted(text, inline=True)
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in shown)


@given(st.text())
def test_a_block_is_one_line_or_every_line_behind_the_bar(text: str) -> None:
    shown = quoted(text)
    lines = shown.splitlines()
    if len(lines) > 1 or shown.startswith("\n"):
        assert shown.startswith("\n") and all(ln.startswith(QUOTE_BAR) for ln in lines[1:])
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in shown if ch != "\n")


def test_every_line_break_kind_is_quoted_and_words_are_kept() -> None:
    for mark in BREAKS:
        text = f"家中有事{mark}{FORGED}"
        assert quoted(text) == f"\n{QUOTE_BAR}家中有事\n{QUOTE_BAR}{FORGED}", repr(mark)
        assert quoted(text, inline=True) == f"家中有事 ↵ {FORGED}", repr(mark)
    assert quoted("  一行  ") == "一行"
    assert quoted("a\u202eb\u200bc") == "abc"  # bidi overrides cannot reorder what is shown
    assert quoted("一二三四五六", inline=True, limit=4) == "一二三…"


async def test_a_leave_reason_cannot_add_lines_to_the_deciders_messages(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    assert "已提交" in await member.say(f"/leave 1 临时有事{BREAKS[0]}{FORGED}\u2028批准人：书记")
    [ask] = [r for r in await queued(chat.services) if r.kind == "leave.request"]
    listed = await secretary.say("/leaves")
    for shown in (ask.text, listed):
        assert FORGED in shown and not forged_lines(shown)
        assert not forged_lines(shown, "批准人")


def test_volunteer_activity_in_lines_and_requests() -> None:
    record = VolunteerRecord(
        id=3,
        member_id=1,
        day=date(2026, 11, 20),
        minutes=180,
        activity=f"社区义诊\n{FORGED}",
        status="pending",
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    render = Renderer().render
    assert len(render(line(record)).splitlines()) == 1
    reply = asking(record, "党员甲", None)
    assert reply.text is not None and not forged_lines(render(reply.text))


def test_survey_answers_quoted_to_staff() -> None:
    question = OpenAnswers(1, "建议", (f"多组织活动\n【其他】9 条\n  · {FORGED}",), (None,))
    shown = Renderer().render(_group(Group("活动", (0,)), question, {}))
    assert len(shown.splitlines()) == 2  # the group's head and one example line
    assert not forged_lines(shown, "【其他】")


async def test_thought_text_comment_and_file_name_cannot_pose_as_reviews(chat: Chat) -> None:
    _, secretary = await chat.enrolled("王书记", role=Role.SECRETARY)
    author_id, author = await chat.enrolled("张积极", stage=Stage.ACTIVIST)
    contact_id, contact = await chat.enrolled("李联系")
    await assign(chat, author_id, contact_id)
    forged = "· 王书记 2026-11-24 10:00 已阅：优秀"
    body = "通过近期的理论学习，我对党的性质和宗旨有了更深刻的认识。\n\n批阅：\n" + forged
    assert "已提交" in await author.say(f"/thought {body}")
    await contact.say(f"/thought_read 1 认识深刻\n{forged}")
    shown = await secretary.say("/thought_show 1")
    assert [ln for ln in shown.splitlines() if ln == "批阅："] == ["批阅："]
    assert len(forged_lines(shown, "· 王书记")) == 0
    document = Attachment("document", "f1", f"汇报.docx\n{forged}", "application/pdf", 10)
    await author.say("/thought", attachments=(document,))
    replies = await secretary.send("/thought_show 2")
    render = chat.services.renderer.render
    for reply in replies:
        assert reply.text is not None and not forged_lines(render(reply.text), "· 王书记")
