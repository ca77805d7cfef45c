"""Study materials as conversations: adding (one line, guided, a document), search order on
a small corpus, /study's recommendation and its reasons, 已学习, the daily push, withdrawal,
branch isolation, and bad input for every command."""

from sqlalchemy import select

from handlers.core.incoming import Attachment
from handlers.study.daily import push_materials
from handlers.study.index import material_terms
from storage import traces
from storage.enums import Role
from storage.models import Material, MaterialRead, Mistake, Question
from tests.support.chat import Chat, User
from tests.support.notices import queued
from tests.support.study import BANK, add_demo_corpus, load_bank

OTHER_BRANCH = "化学化工学院第二党支部"


async def top_titles(user: User, query: str) -> list[str]:
    replies = await user.send(f"/search {query}")
    return [user.chat.services.renderer.render(b.label) for row in replies[0].buttons for b in row]


async def test_one_line_add_with_keywords_and_trace(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    reply = await secretary.say(
        "/material_add 坚持三会一课制度 | 三会一课是党的组织生活的基本制度，"
        "支部党员大会、支委会、党小组会和党课要按期召开，主题党日与三会一课结合。"
    )
    assert "已添加学习资料 #1《坚持三会一课制度》" in reply and "三会一课" in reply
    assert "一课" not in reply.replace("三会一课", "")  # the Party term stays whole
    again = await secretary.say(
        "/material_add 坚持三会一课制度 | 三会一课是党的组织生活的基本制度，"
        "支部党员大会、支委会、党小组会和党课要按期召开，主题党日与三会一课结合。"
    )
    assert "同样的资料已经有了：#1" in again
    assert "#1《坚持三会一课制度》" in await member.say("/materials")
    assert "仅限支部书记" in await member.say("/material_add 标题 | 内容")
    async with chat.services.sessions() as session:
        assert await traces.count(session, kind="material.added") == 1


async def test_guided_add_with_a_link_and_a_document(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "标题" in await secretary.say("/material_add")
    assert await secretary.say("x") != "x"  # too short a title: asked again
    assert "内容" in await secretary.say("学习党章")
    reply = await secretary.say("https://example.org/dangzhang")
    assert "已添加学习资料 #1《学习党章》" in reply
    await secretary.say("/material_add")
    await secretary.say("发展党员工作细则")
    document = Attachment("document", "file-123", "细则.pdf", "application/pdf")
    reply = await secretary.say("", attachments=(document,))
    assert "#2《发展党员工作细则》" in reply
    shown = await secretary.send("/study 2")
    assert shown[0].forward is not None and shown[0].forward.file_id == "file-123"
    link = await secretary.say("/study 1")
    assert "https://example.org/dangzhang" in link


async def test_search_ranks_the_right_material_first(chat: Chat) -> None:
    ids = await add_demo_corpus(chat)
    member = await chat.bound("党员甲")
    expectations = {
        "转正": "预备党员",
        "政审": "发展对象",
        "流动党员 实习": "实习",
        "开除党籍": "纪律",
        "党费怎么交": "党费",
        "组织生活会": "组织生活会",
    }
    for query, expected in expectations.items():
        titles = await top_titles(member, query)
        assert titles and expected in titles[0], (query, titles)
    assert len(ids) == 12
    nothing = await member.say("/search 足球比赛")
    assert "没有找到" in nothing
    async with chat.services.sessions() as session:
        assert await traces.count(session, kind="search.performed") == len(expectations) + 1


async def test_search_bad_input(chat: Chat) -> None:
    member = await chat.bound("党员甲")
    assert "请写上要找的内容" in await member.say("/search")
    assert "关键词太长" in await member.say("/search " + "党" * 60)
    assert "没有找到" in await member.say("搜索 ！！！")


async def test_study_recommends_by_interest_then_weak_tags(chat: Chat) -> None:
    await add_demo_corpus(chat)
    _, code = await chat.enrol("党员甲")
    member = chat.user()
    await member.say(f"/start {code}")
    async with chat.services.sessions.begin() as session:
        from storage.models import Member

        row = await session.scalar(select(Member).where(Member.name == "党员甲"))
        assert row is not None
        row.interests = ["党费"]
    reply = await member.say("/study")
    assert "党费" in reply.splitlines()[0] and "您关注的“党费”" in reply
    # A question on 政审 in the 错题本 outweighs the interest.
    await load_bank(
        chat,
        [{**BANK[0], "code": "Z-1", "tags": ["政审"]}],
    )
    async with chat.services.sessions.begin() as session:
        question = await session.scalar(select(Question))
        assert question is not None and row is not None
        session.add(Mistake(member_id=row.id, question_id=question.id, missed_at=chat.clock()))
    reply = await member.say("学习")
    assert "发展对象" in reply.splitlines()[0] and "“政审”方面的题目有错题" in reply


async def test_learned_is_recorded_once_and_skipped_after(chat: Chat) -> None:
    ids = await add_demo_corpus(chat)
    member = await chat.bound("党员甲")
    first = await member.send("/study")
    learned = first[0].buttons[0][0].data
    assert learned.startswith("/learned ")
    reply = await member.say(callback=learned)
    assert "已记录" in reply and "本月已学习 1 篇" in reply
    assert "已经学习过了" in await member.say(callback=learned)
    again = await member.send("/study")
    assert again[0].buttons[0][0].data != learned
    async with chat.services.sessions() as session:
        assert await traces.count(session, kind="material.learned") == 1
    assert "找不到资料 #999" in await member.say("/learned 999")
    assert len(ids) == 12


async def test_daily_push_gives_each_member_their_pick_once(chat: Chat) -> None:
    await add_demo_corpus(chat)
    first, second = await chat.bound("党员甲"), await chat.bound("党员乙")
    services = chat.services
    for _ in range(2):  # the second run the same day sends nothing more
        async with services.sessions.begin() as session:
            await push_materials(session, services.box, chat.clock(), services.settings.zone)
    pushed = [r for r in await queued(services) if r.kind == "material"]
    assert sorted(r.chat_id for r in pushed) == sorted([first.account_id, second.account_id])
    assert all("今日学习" in r.text and r.buttons[0].startswith("/study ") for r in pushed)
    async with services.sessions() as session:
        reads = (await session.scalars(select(MaterialRead))).all()
        assert await traces.count(session, kind="material.pushed") == 2
    assert len(reads) == 2
    today = await first.say("/study")
    mine = next(r for r in pushed if r.chat_id == first.account_id)
    title = mine.text.splitlines()[0].removeprefix("📚 今日学习：")
    assert title in today and "今日推送" in today
    # Tomorrow brings a different material.
    chat.clock.advance(days=1)
    async with services.sessions.begin() as session:
        await push_materials(session, services.box, chat.clock(), services.settings.zone)
    later = [r for r in await queued(services) if r.kind == "material"]
    assert len(later) == 4
    again = next(r for r in later[2:] if r.chat_id == first.account_id)
    assert again.text != mine.text


async def test_removed_material_is_neither_found_nor_shown(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await secretary.say("/material_add 预备党员转正 | 预备党员预备期满，支部讨论转正。")
    assert await top_titles(member, "转正")
    assert "请写资料编号" in await secretary.say("/material_remove")
    assert "找不到资料 #9" in await secretary.say("/material_remove 9")
    assert "已撤下资料 #1" in await secretary.say("/material_remove 1")
    assert not await top_titles(member, "转正")
    assert "找不到资料 #1" in await member.say("/study 1")


async def test_branches_see_their_own_and_shared_materials(chat: Chat) -> None:
    ours = await chat.bound("书记", role=Role.SECRETARY)
    theirs = await chat.bound("二支书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    admin = await chat.bound("管理员", role=Role.ADMIN)
    await ours.say("/material_add 一支部的转正材料 | 预备党员转正讨论记录。")
    await theirs.say("/material_add 二支部的转正材料 | 预备党员转正讨论记录和表决。")
    await admin.say("/material_add 全校共享的转正指南 | 预备党员转正的程序。")
    assert sorted(await top_titles(ours, "转正")) == sorted(
        ["📖 一支部的转正材料", "📖 全校共享的转正指南"]
    )
    assert "找不到资料 #2" in await ours.say("/study 2")
    assert len(await top_titles(admin, "转正")) == 3
    assert "全校共享" in await theirs.say("/material_remove 3")


async def test_material_add_bad_input(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "用“|”隔开" in await secretary.say("/material_add 只有标题")
    assert "标题请写 2 到" in await secretary.say("/material_add 党 | 内容")
    assert "需要内容" in await secretary.say("/material_add 标题正常 |   ")
    assert "直接发送 /materials" in await secretary.say("/materials 党章")
    assert "还没有学习资料" in await secretary.say("/materials")
    assert "还没有学习资料" in await secretary.say("/study")
    assert "用法" in await secretary.say("/study abc")


async def test_a_document_sent_with_the_bare_command_is_kept(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    document = Attachment("document", "file-9", "支部工作条例.docx")
    assert "标题" in await secretary.say("/material_add", attachments=(document,))
    assert "#1《支部工作条例学习》" in await secretary.say("支部工作条例学习")
    shown = await secretary.send("/study 1")
    assert shown[0].forward is not None and shown[0].forward.file_id == "file-9"
    assert "链接太长" in await secretary.say("/material_add 标题正常 | https://x.org/" + "a" * 600)


async def test_search_finds_a_material_committed_after_a_newer_one(chat: Chat) -> None:
    """Two processes adding at once: id 2 commits (and is indexed) before id 1 does."""
    member = await chat.bound("党员甲")
    services = chat.services

    async def insert(material_id: int, title: str) -> None:
        async with services.sessions.begin() as session:
            session.add(
                Material(id=material_id, title=title, body="", terms=material_terms(title, ""),
                         keywords=[], digest=str(material_id), created_at=chat.clock())
            )  # fmt: skip

    await insert(2, "预备党员转正程序")
    assert await top_titles(member, "转正") == ["📖 预备党员转正程序"]
    await insert(1, "发展对象政审要点")
    assert await top_titles(member, "政审") == ["📖 发展对象政审要点"]
