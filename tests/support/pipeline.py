"""Development pipeline set-up: decision meetings, contact persons and the whole journey
of a person from application to full membership."""

from datetime import UTC, date, datetime

from handlers.pipeline.rules import rule_set
from storage.enums import MeetingKind, MeetingStatus, Role, Stage
from storage.models import Meeting
from storage.pipeline_models import Contact
from tests.support.chat import Chat, User


async def meeting(chat: Chat, kind: MeetingKind, day: date) -> int:
    """A finished meeting of the branch on `day` (a decision's source)."""
    branch = await chat.branch()
    async with chat.services.sessions.begin() as session:
        row = Meeting(
            branch_id=branch.id,
            kind=kind,
            title="讨论发展党员",
            starts_at=datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC),
            minutes=90,
            status=MeetingStatus.FINISHED,
            checkin_secret="JBSWY3DPEHPK3PXP",
            created_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        )
        session.add(row)
        await session.flush()
        return row.id


async def secretary_with_contacts(chat: Chat) -> User:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("李老师")
    await chat.enrol("王五")
    return secretary


async def journey(chat: Chat) -> list[str]:
    """The steps that carry 张三 from application to full membership, every rule met."""
    await chat.enrol("张三", stage=Stage.APPLICANT)
    assembly_in = await meeting(chat, MeetingKind.ASSEMBLY, date(2025, 11, 20))
    assembly_out = await meeting(chat, MeetingKind.ASSEMBLY, date(2026, 11, 20))
    return [
        "/stage 张三 入党申请人 2024-03-01",
        "/talk 张三 2024-03-20 了解入党动机",
        "/stage 张三 入党积极分子 2024-05-10 支委会研究确定",
        "/contact 张三 李老师 王五 2024-05-12",
        "/talk 张三 2024-09-01 谈心",
        "/stage 张三 发展对象 2025-06-01 支委会研究确定",
        "/review 张三 2025-09-01 政审合格",
        "/training 张三 2025-10-01 3天 校党校",
        f"/stage 张三 预备党员 2025-11-20 支部大会#{assembly_in} 审批2025-12-10",
        f"/stage 张三 正式党员 2026-11-20 支部大会#{assembly_out}",
    ]


def check_complete_file(file: str) -> None:
    assert "张三 · 正式党员" in file
    assert "2025-11-20 成为预备党员，支部大会#" in file and "上级审批 2025-12-10" in file
    assert file.count("2025-12-10") == 1, file  # the approval date once, not in the decision too
    assert "❌" not in file and "⚠️" not in file and "❔" not in file, file
    assert file.count("✅") == len(rule_set().rules)
    assert "集中培训 24 学时" in file


async def assign(chat: Chat, member_id: int, contact_id: int, ended: date | None = None) -> None:
    """A contact person (培养联系人), recorded directly: /contact is another feature's."""
    async with chat.services.sessions() as session, session.begin():
        session.add(
            Contact(
                member_id=member_id,
                contact_id=contact_id,
                assigned_on=date(2026, 11, 1),
                ended_on=ended,
            )
        )
