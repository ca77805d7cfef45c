"""A database with something in (nearly) every encrypted column, made through the features'
own paths, and the checks that read it back the same way: for the backup and key-rotation
tests, which must show that nothing sealed is lost or left under the old key."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from handlers.account.members import NewMember, add_member, issue_invite
from handlers.account.personal import personal_of
from handlers.core.incoming import Attachment
from handlers.core.messages import Msg, Reply, Secret
from handlers.core.notify import queue_to_members
from handlers.core.payload import queued_reply
from storage import surveys
from storage.crypto import SecretBox
from storage.enums import Role, Stage
from storage.meetings import leave_reason
from storage.models import LeaveRequest, Member, OutboxMessage
from storage.roster_models import ArchiveFile
from storage.sealed import sealed_columns
from storage.surveys import Ballot
from tests.conftest import BRANCH, SECRET, Cli
from tests.support.chat import Chat, Clock, User
from tests.support.meetings import ONE_LINE
from tests.support.pipeline import assign
from tests.support.surveys import full_ballots, new_survey
from tests.support.votes import assembly

PHONE = "13800138000"
ID_NUMBER = "110101199003071234"
THOUGHT = "通过近期的理论学习，我对党的性质和宗旨有了更深刻的认识，决心以实际行动向党组织靠拢。"
COMMENT = "认识比较深刻，建议多联系专业学习实际"
REASON = "住院治疗，无法到会"
SCAN = b"%PDF-1.4 a certificate kept in the archive"
PHOTO = b"\xff\xd8\xff photo of the meeting"
SECRET_CODE = "918273"
SNAP = Attachment("photo", "photo-1", None, "image/jpeg", len(PHOTO))


@dataclass
class Filled:
    member_id: int  # the one with phone, ID number and personal fields
    contact: str  # the account of one who may read the thought report
    survey_id: int
    invite_code: str  # an open invite, which a key rotation revokes


async def populate(chat: Chat, tmp_path: Path) -> Filled:
    """Members with personal data, a thought report read with a comment, a leave request,
    minutes and a photo, a vote, survey ballots and a half-answered survey, an archive entry
    with a scan (by the command line), a queued secret in the outbox, open invites."""
    services = chat.services
    chat.serve_files({"photo-1": PHOTO})
    secretary = await chat.bound("王书记", role=Role.SECRETARY, branch=BRANCH)
    member_id, invite = await _member_with_personal_data(chat)
    contact_id, contact = await chat.enrolled("李联系", branch=BRANCH)
    author = await chat.bind(invite)
    await assign(chat, member_id, contact_id)
    assert "已提交" in await author.say(f"/thought {THOUGHT}")
    assert "已批阅" in await contact.say(f"/thought_read 1 {COMMENT}")
    await _meeting_with_leave_minutes_and_vote(chat, secretary, author, contact)
    survey_id = await new_survey(chat, full_ballots(3), branch=BRANCH)
    async with services.sessions.begin() as session:
        draft = surveys.Draft(answers=[1], selection=[])
        await surveys.save_draft(session, services.box, survey_id, contact_id, draft, chat.clock())
    await asyncio.to_thread(_archive_scan, Cli(services.settings.database_url), tmp_path)
    async with services.sessions.begin() as session:
        reply = Reply(Msg("web.login.code_message", code=Secret(SECRET_CODE), minutes=10))
        now, box = chat.clock(), services.box
        await queue_to_members(
            session, [contact_id], reply, key="k", kind="web.login", now=now, box=box
        )
        member = await session.get(Member, member_id)
        assert member is not None
        open_code = await issue_invite(session, box, member, now, timedelta(days=9))
    return Filled(member_id, contact.account_id, survey_id, open_code)


async def _member_with_personal_data(chat: Chat) -> tuple[int, str]:
    branch = await chat.branch(BRANCH)
    new = NewMember(
        name="张积极",
        stage=Stage.ACTIVIST,
        phone=PHONE,
        id_number=ID_NUMBER,
        personal={"gender": "女", "native_place": "江苏南京"},
    )
    box, now = chat.services.box, chat.clock()
    async with chat.services.sessions.begin() as session:
        member = await add_member(session, box, branch, new, now)
        code = await issue_invite(session, box, member, now, timedelta(days=9))
        return member.id, code


async def _meeting_with_leave_minutes_and_vote(
    chat: Chat, secretary: User, author: User, contact: User
) -> None:
    """Meeting #1, a general assembly, begun (minutes, a photo, a vote); #2 later, with a
    leave request."""
    await assembly(chat, secretary, [secretary, contact])
    assert "已创建会议 #2" in await secretary.say(ONE_LINE.replace("2026-11-25", "2026-12-10"))
    assert "已提交" in await contact.say(f"/leave 2 {REASON}")
    assert "第 1 步" in await secretary.say("/minutes 1")
    assert "第 2 步" in await secretary.say("学习全会精神")
    assert "第 3 步" in await secretary.say("王书记")
    assert "第 4 步" in await secretary.say("会议记录正文：学习了全会精神，讨论了发展对象。")
    assert "已保存照片" in await secretary.say("", attachments=(SNAP,))
    await secretary.say("完成")
    await chat.enrol("张候选", stage=Stage.CANDIDATE, branch=BRANCH)
    assert "已发起表决" in await secretary.say("/vote_open 1 张候选")
    assert "已投票" in await contact.say("/vote 1 赞成")


def _archive_scan(cli: Cli, tmp_path: Path) -> None:
    scan = tmp_path / "证书.pdf"
    scan.write_bytes(SCAN)
    details = ("2024-05-01", "校级", "优秀共产党员", "依据：校党委文件")
    result = cli("member", "archive-add", "张积极", "奖励", *details, "--scan", str(scan))
    assert result.exit_code == 0, result.output


# --- the command line and services on any database -----------------------------------------


@asynccontextmanager
async def services_on(url: str, clock: Clock, key: str = SECRET) -> AsyncIterator[Services]:
    built = build_services(load_settings(database_url=url, secret_key=key), clock=clock)
    try:
        yield built
    finally:
        await built.close()


async def cli(url: str, *args: str, key: str = SECRET) -> Result:
    """A `branchbot` command on the database at `url` (in a thread: it runs its own loop)."""
    return await asyncio.to_thread(Cli(url), *args, BRANCHBOT_SECRET_KEY=key)


# --- reading it back ----------------------------------------------------------------------


async def unopened(conn: AsyncConnection, box: SecretBox) -> dict[str, int]:
    """Per table.column: stored values this key does not open (empty: it opens them all)."""
    found: dict[str, int] = {}
    for table, columns in sealed_columns():
        for column in columns:
            tokens = (await conn.execute(select(column).where(column.is_not(None)))).scalars()
            bad = 0
            for token in tokens:
                try:
                    box.decrypt_bytes(token)
                except ValueError:
                    bad += 1
            if bad:
                found[f"{table.name}.{column.name}"] = bad
    return found


async def filled_columns(conn: AsyncConnection) -> set[str]:
    """The encrypted columns that hold at least one value."""
    filled = set()
    for table, columns in sealed_columns():
        for column in columns:
            if await conn.scalar(select(column).where(column.is_not(None)).limit(1)) is not None:
                filled.add(f"{table.name}.{column.name}")
    return filled


async def read_back(chat: Chat, filled: Filled) -> None:
    """Read the sealed data as the features do: the secretary's view of a member (phone, ID,
    personal fields), the contact opening the thought report, the leave reason, the survey's
    ballots, the archive scan, the outbox's sealed code."""
    services = chat.services
    box = services.box
    async with services.sessions() as session:
        member = await session.get(Member, filled.member_id)
        assert member is not None
        assert box.decrypt(member.phone_enc) == PHONE
        assert box.decrypt(member.id_number_enc) == ID_NUMBER
        assert personal_of(box, member)["native_place"] == "江苏南京"
        request = (await session.scalars(select(LeaveRequest))).one()
        assert leave_reason(box, request) == REASON
        ballots = await surveys.ballots(session, box, filled.survey_id)
        assert len(ballots) == 3 and all(isinstance(b, Ballot) for b in ballots)
        scan = (await session.scalars(select(ArchiveFile))).one()
        assert box.decrypt_bytes(scan.content_enc) == SCAN
        queued = select(OutboxMessage).where(OutboxMessage.kind == "web.login")
        row = (await session.scalars(queued)).one()
        reply = queued_reply(box, row.payload, row.sealed)
        assert SECRET_CODE in services.renderer.render(reply.text)  # type: ignore[arg-type]
    shown = await chat.user(filled.contact).say("/thought_show 1")
    assert THOUGHT in shown and COMMENT in shown, shown
