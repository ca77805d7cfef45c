"""Who hands in thought reports and who may read them: the one place these rules live.

A report is read by its author, the author's current contact persons (培养联系人) and the
secretary of the author's branch; nobody else, not committee members, admins or another
branch's secretary. Everyone else is told a report does not exist, so ids cannot be probed.
"""

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.incoming import Attachment
from handlers.core.messages import Denied, Msg, UserError
from handlers.core.parsing import parse_id
from storage import thoughts
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Member
from storage.pipeline import contact_ids
from storage.pipeline_models import ThoughtReport
from storage.thoughts import thought_ref


def hands_in(member: Member) -> bool:
    """Activists, candidates and probationary members hand in reports."""
    return member.active and member.stage in thoughts.AUTHOR_STAGES


async def may_read_reports_of(session: AsyncSession, author: Member, reader: Member) -> bool:
    """The rule: the author, their current contact persons, their branch's secretary."""
    if not reader.active:
        return False
    if reader.id == author.id:
        return True
    if (
        reader.role == Role.SECRETARY
        and author.branch_id is not None
        and reader.branch_id == author.branch_id
    ):
        return True
    return reader.id in await contact_ids(session, author.id)


async def may_read(session: AsyncSession, report: ThoughtReport, reader: Member) -> bool:
    return await may_read_reports_of(session, report.member, reader)


def report_id_of(args: str, command: str) -> tuple[int, str]:
    """`ID [rest]` from a command's arguments; the usage when there is no id."""
    head, _, rest = args.strip().partition(" ")
    report_id = parse_id(head) if head else None
    if report_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    return report_id, rest.strip()


async def readable(ctx: Context, report_id: int, *, lock: bool = False) -> ThoughtReport:
    """The report if the caller may read it; otherwise the answer a missing id gets."""
    reader = ctx.require_caller()
    report = await thoughts.get(ctx.session, report_id, lock=lock)
    if report is None or not await may_read(ctx.session, report, reader):
        target, exists = thought_ref(report_id), report is not None
        raise Denied("thought.not_found", target=target, exists=exists, id=report_id)
    return report


def body_of(box: SecretBox, report: ThoughtReport) -> str:
    return box.decrypt(report.body_enc) or ""


def attachment_of(box: SecretBox, report: ThoughtReport) -> dict[str, Any] | None:
    """The document's {"platform", "kind", "file_id", "file_name"}, if it was a document."""
    raw = box.decrypt(report.attachment_enc)
    return json.loads(raw) if raw else None


def seal_attachment(box: SecretBox, platform: str, attachment: Attachment) -> bytes | None:
    plain = {
        "platform": platform,
        "kind": attachment.kind,
        "file_id": attachment.file_id,
        "file_name": attachment.file_name,
    }
    return box.encrypt(json.dumps(plain, ensure_ascii=False))
