"""Branches changing in chat (admins only): a merge with its preview and confirm button
(members, a meeting not yet held, the past staying behind, memberships, traces, who is told),
a rename, a split by grade, an archive refused then done, and bad input that changes nothing."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from storage.enums import MeetingKind, Role
from storage.models import Branch, Meeting, Member
from storage.roster_models import Membership
from tests.support.chat import Chat
from tests.support.outbox import queued_to
from tests.support.people import admin_user, member_id
from tests.support.traces import traces_of

FIRST = "化学化工学院第一党支部"
SECOND = "化学化工学院第二党支部"
ZONE = ZoneInfo("Asia/Shanghai")


async def branch_row(chat: Chat, name: str) -> Branch:
    async with chat.services.sessions() as session:
        found = await session.scalar(select(Branch).where(Branch.name == name))
        assert found is not None
        return found


async def meeting_of(chat: Chat, branch: str, title: str, starts: datetime) -> int:
    async with chat.services.sessions.begin() as session:
        meeting = Meeting(
            branch_id=(await chat.branch(branch)).id,
            kind=MeetingKind.THEME_DAY,
            title=title,
            starts_at=starts,
            checkin_secret="JBSWY3DPEHPK3PXP",
            created_at=chat.clock(),
            jobs_synced=True,
        )
        session.add(meeting)
        await session.flush()
        return meeting.id


async def meeting_row(chat: Chat, meeting_id: int) -> Meeting:
    async with chat.services.sessions() as session:
        found = await session.get(Meeting, meeting_id)
        assert found is not None
        return found


async def stretches(chat: Chat, member: int) -> list[tuple[int, str, str | None, str, str | None]]:
    """(branch id, since day, until day, reason, end reason) of each membership."""
    async with chat.services.sessions() as session:
        query = select(Membership).where(Membership.member_id == member)
        found = (await session.scalars(query.order_by(Membership.since))).all()
    return [
        (
            s.branch_id,
            str(s.since.astimezone(ZONE).date()),
            str(s.until.astimezone(ZONE).date()) if s.until else None,
            s.reason,
            s.end_reason,
        )
        for s in found
    ]


async def test_an_admin_merges_a_branch_after_a_preview(chat: Chat) -> None:
    admin = await admin_user(chat)
    receiver = await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    old_secretary, _ = await chat.enrolled("一支书记", role=Role.SECRETARY)
    zhang, _ = await chat.enrolled("张三")
    li, _ = await chat.enrolled("李四")
    past = await meeting_of(chat, FIRST, "十一月主题党日", datetime(2026, 11, 28, 6, tzinfo=ZONE))
    ahead = await meeting_of(chat, FIRST, "十二月主题党日", datetime(2026, 12, 30, 14, tzinfo=ZONE))
    chat.clock.advance(days=20)  # 2026-12-14
    preview = await admin.send(
        "/branch_merge 化学化工学院第一党支部 并入 化学化工学院第二党支部 2026-12-10"
    )
    text = chat.services.renderer.render(preview[0].text)  # type: ignore[arg-type]
    assert "合并预览：“化学化工学院第一党支部”自 2026-12-10 起并入“化学化工学院第二党支部”" in text
    assert "成员 3 人：一支书记、张三、李四" in text and "未开的会议 1 场" in text
    assert "书记、支委职务不随转：一支书记" in text
    assert [b.data for b in preview[0].buttons[0]] == ["/branch_merge_confirm", "/cancel"]
    source = await branch_row(chat, FIRST)
    assert source.archived_at is None  # nothing yet

    done = await admin.say(callback="/branch_merge_confirm")
    assert "已合并：“化学化工学院第一党支部”自 2026-12-10 起并入" in done
    assert "转入成员 3 人、会议 1 场" in done
    source, target = await branch_row(chat, FIRST), await branch_row(chat, SECOND)
    assert source.archived_at == datetime(2026, 12, 10, tzinfo=ZONE)
    assert source.merged_into_id == target.id
    assert await stretches(chat, zhang) == [
        (source.id, "2026-11-24", "2026-12-10", "joined", "merged"),
        (target.id, "2026-12-10", None, "merged", None),
    ]
    # The meeting not yet held moves (its reminders planned again); the past one stays.
    moved = await meeting_row(chat, ahead)
    assert moved.branch_id == target.id and moved.jobs_synced is False
    assert (await meeting_row(chat, past)).branch_id == source.id
    # The old secretary is a member now; the receiving branch keeps its secretary.
    async with chat.services.sessions() as session:
        demoted = await session.get(Member, old_secretary)
        assert demoted is not None and demoted.role == Role.MEMBER
        assert demoted.branch_id == target.id
    (merged,) = await traces_of(chat.services, "branch.merged")
    assert merged.branch_id == source.id and merged.actor_id == await member_id(admin)
    assert merged.data["target"] == SECOND and merged.data["on"] == "2026-12-10"
    assert merged.data["members"] == 3 and merged.data["meetings"] == [ahead]
    transferred = await traces_of(chat.services, "member.transferred")
    assert [t.data["because"] for t in transferred] == ["merge"] * 3
    # Each member is told once; the receiving secretary once, not once per member.
    for member in (zhang, li, old_secretary):
        (told,) = await queued_to(chat.services, member, "member_move")
        assert "你所在的“化学化工学院第一党支部”已并入“化学化工学院第二党支部”" in told
    receiver_id = await member_id(receiver)
    assert await queued_to(chat.services, receiver_id, "member_move") == []
    (news,) = await queued_to(chat.services, receiver_id, "branch_change")
    assert "转入成员 3 人，未开的会议 1 场" in news
    # The source is archived: no second merge, no transfers into it, marked in the list.
    assert "已经撤销" in await admin.say(f"/branch_merge {FIRST} {SECOND}")
    assert "已撤销" in await admin.say(f"/transfer 张三 {FIRST}")
    listed = await admin.say("/branches")
    assert f"{FIRST}：已撤销，2026-12-10 起，并入“{SECOND}”" in listed
    # The member's history keeps the old branch's name.
    history = await admin.say("/member 张三")
    assert f"校内转接：“{FIRST}” → “{SECOND}”（2026-12-10 起），支部合并" in history


async def test_a_secretary_is_refused_and_traced(chat: Chat) -> None:
    secretary = await chat.bound("一支书记", role=Role.SECRETARY)
    await chat.branch(SECOND)
    for command in (f"/branch_merge {FIRST} {SECOND}", f"/branch_rename {FIRST} 新名", "/branches"):
        await secretary.say(command)
    refused = await traces_of(chat.services, "access.refused")
    assert [t.data["command"] for t in refused] == ["branch_merge", "branch_rename", "branches"]
    assert (await branch_row(chat, FIRST)).archived_at is None
    assert await traces_of(chat.services, "branch.renamed") == []


async def test_rename_keeps_the_old_name_findable(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.enrolled("张三")
    await chat.branch(SECOND)
    reply = await admin.say(f"/branch_rename {FIRST} 化学化工学院学生第一党支部")
    assert f"已更名：“{FIRST}”→“化学化工学院学生第一党支部”" in reply
    (renamed,) = await traces_of(chat.services, "branch.renamed")
    assert renamed.data["old"] == FIRST and renamed.data["new"] == "化学化工学院学生第一党支部"
    assert f"曾用名：{FIRST}" in await admin.say("/branches")
    # The old name says what it is called now; bad input changes nothing.
    assert "已更名为“化学化工学院学生第一党支部”" in await admin.say(f"/branch_archive {FIRST}")
    assert "已存在" in await admin.say(f"/branch_rename 化学化工学院学生第一党支部 {SECOND}")
    assert "没有名为“查无此支部”" in await admin.say("/branch_rename 查无此支部 新名")
    assert "用法" in await admin.say("/branch_rename 只有一个名字")
    assert len(await traces_of(chat.services, "branch.renamed")) == 1


async def test_split_by_grade_into_a_new_branch(chat: Chat) -> None:
    admin = await admin_user(chat)
    secretary = await chat.bound("一支书记", role=Role.SECRETARY)
    ids = [(await chat.enrolled(f"新生{i}"))[0] for i in range(3)]
    async with chat.services.sessions.begin() as session:
        await session.execute(update(Member).where(Member.id.in_(ids[:2])).values(grade="2024级"))
        await session.execute(update(Branch).values(college="化学化工学院"))
    new_name = "化学化工学院2024级党支部"
    preview = await admin.say(f"/branch_split {FIRST} {new_name} 年级 2024级")
    assert f"拆分预览：自 2026-11-24 起从“{FIRST}”转到“{new_name}”（新建）" in preview
    assert "成员 2 人：新生0、新生1" in preview
    done = await admin.say("确认")
    assert f"已拆分：2 人自 2026-11-24 起从“{FIRST}”转到“{new_name}”" in done
    made = await branch_row(chat, new_name)
    assert made.college == "化学化工学院"
    async with chat.services.sessions() as session:
        branch_of = {m: (await session.get(Member, m)).branch_id for m in ids}  # type: ignore[union-attr]
    assert [branch_of[m] == made.id for m in ids] == [True, True, False]
    (split,) = await traces_of(chat.services, "branch.split")
    assert split.data["created"] is True and split.data["members"] == 2
    assert [t.data["because"] for t in await traces_of(chat.services, "member.transferred")] == [
        "split",
        "split",
    ]
    (told,) = await queued_to(chat.services, ids[0], "member_move")
    assert f"从“{FIRST}”转到“{new_name}”" in told
    (news,) = await queued_to(chat.services, await member_id(secretary), "branch_change")
    assert "2 名成员" in news
    assert "没有可拆分的人" in await admin.say(f"/branch_split {FIRST} {new_name} 年级 2030级")


async def test_archive_is_refused_while_members_remain_then_done(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.enrolled("张三", branch=SECOND)
    await chat.branch(FIRST)
    refused = await admin.say(f"/branch_archive {SECOND}")
    assert "还有 1 名成员，不能撤销" in refused and "/branch_merge" in refused
    assert (await branch_row(chat, SECOND)).archived_at is None
    await admin.say(f"/transfer 张三 {FIRST}")
    assert "还没到" in await admin.say(f"/branch_archive {SECOND} 2099-01-01")
    done = await admin.say(f"/branch_archive {SECOND}")
    assert f"已撤销（归档）“{SECOND}”，2026-11-24 起" in done
    # From the moment its last member left that day (10:00), not the day's start.
    assert (await branch_row(chat, SECOND)).archived_at == datetime(2026, 11, 24, 10, tzinfo=ZONE)
    (archived,) = await traces_of(chat.services, "branch.archived")
    assert archived.data["on"] == "2026-11-24"
    # An archived branch takes no one in and is not archived twice.
    assert "已撤销" in await admin.say(f"/transfer 张三 {SECOND}")
    assert "已经撤销" in await admin.say(f"/branch_archive {SECOND}")
    assert "已撤销" in await admin.say(f"/branch_merge {FIRST} {SECOND}")


async def test_bad_merges_change_nothing(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.enrolled("张三")
    await chat.branch(SECOND)
    assert "不能把" in await admin.say(f"/branch_merge {FIRST} {FIRST}")
    assert "还没到" in await admin.say(f"/branch_merge {FIRST} {SECOND} 2099-01-01")
    assert "早于" in await admin.say(f"/branch_merge {FIRST} {SECOND} 2026-01-01")
    assert "没有名为" in await admin.say(f"/branch_merge {FIRST} 查无此支部")
    assert "用法" in await admin.say("/branch_merge 只有一个")
    assert "没有待确认" in await admin.say(callback="/branch_merge_confirm")
    assert (await branch_row(chat, FIRST)).archived_at is None
    assert await traces_of(chat.services, "branch.merged") == []


async def test_a_preview_gone_stale_is_refused(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.enrolled("张三")
    await chat.branch(SECOND)
    await admin.say(f"/branch_merge {FIRST} {SECOND}")
    await chat.enrolled("后来者")
    chat.clock.advance(minutes=1)
    assert "成员有变动" in await admin.say(callback="/branch_merge_confirm")
    assert (await branch_row(chat, FIRST)).archived_at is None
