"""`/record [姓名] [年份]` (记实): a member's annual record, as a short answer and the whole of
it as a PDF, watermarked with the viewer and traced (data.exported, what: record).

Who sees whose: a member their own (also after leaving, during their access period); the
secretary and committee members of a member's branch now (for one who left: the branch they
left), for the whole year wherever the member was in it; an admin anyone's. A branch the
member moved away from sees it no more. Anything else is answered as not found, and traced
(access.refused).
"""

import re
from datetime import date

from handlers.access.watermark import exporter, watermark
from handlers.common.lookup import find_member
from handlers.common.periods import YEARS
from handlers.core.context import Context
from handlers.core.messages import Denied, FileOut, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, FORMER, Replies
from handlers.core.tracer import or_own
from handlers.record_year.feature import feature
from handlers.record_year.figures import year_record
from handlers.record_year.words import record_brief, record_paper
from storage import people
from storage.enums import Role
from storage.models import Member

YEAR = re.compile(r"^(\d{1,4})年?$")
PDF = "application/pdf"


def parse_args(args: str, today: date) -> tuple[str, int]:
    """(the name, or "" for oneself; the year, this one if none): `姓名 年份`, `姓名`,
    `年份` or nothing."""
    words = args.split()
    if len(words) > 2:
        raise UserError("usage", usage=Msg("cmd.record.usage"))
    if len(words) == 2:
        return words[0], _year(words[1], today)
    if words and YEAR.match(words[0]):
        return "", _year(words[0], today)
    return (words[0] if words else ""), today.year


def _year(text: str, today: date) -> int:
    found = YEAR.match(text)
    if found is None or int(found.group(1)) < YEARS[0]:
        raise UserError("record_year.bad_year", value=text, year=today.year)
    year = int(found.group(1))
    if year > today.year:
        raise UserError("record_year.future", year=year, now=today.year)
    return year


def _is_caller(caller: Member, name: str) -> bool:
    return name in (caller.name, caller.staff_no, f"#{caller.id}")


async def _not_theirs(ctx: Context, name: str) -> Denied:
    """A plain member naming someone else: not found, whoever it is (traced)."""
    member_id = parse_id(name) if name.startswith("#") else None
    if member_id is not None:
        found = [m] if (m := await ctx.session.get(Member, member_id)) else []
    else:
        found = list(await people.members_matching(ctx.session, name, None, left_too=True))
    target = "member:" + (",".join(f"#{m.id}" for m in found) or name[:20])
    return Denied("lookup.unknown_member", target=target, exists=bool(found), name=name)


async def subject(ctx: Context, name: str) -> Member:
    """Whose record the caller asks for, if theirs to see."""
    caller = ctx.require_caller()
    if not name or _is_caller(caller, name):
        return caller
    if ctx.role in (Role.MEMBER, FORMER):
        raise await _not_theirs(ctx, name)
    # Another branch's (one the member moved away from too): Denied, traced by the router.
    return await find_member(ctx, name, left_too=True)


@feature.command(
    "record",
    roles=EVERYONE,
    aliases=("记实", "年度记实", "党员记实"),
    private_only=True,
    for_former=True,
)
async def record_command(ctx: Context, args: str) -> Replies:
    """A member's year on one page: a short answer, and the PDF."""
    name, year = parse_args(args, ctx.today)
    member = await subject(ctx, name)
    record = await year_record(ctx.session, ctx.box, member, year, ctx.today, ctx.options)
    if record.nothing:
        await ctx.trace_view_of(member, "record", ref=f"member:{member.id}")
        key = "record_year.nothing" if record.member_then else "record_year.not_member"
        return Reply(Msg(key, name=member.name, year=year))
    exported = await ctx.trace(
        "data.exported",
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"member:{member.id}",
        data={"what": "record", "year": year, "format": "pdf"},
    )
    caller = ctx.require_caller()
    mark = watermark(exporter(caller.name, caller.id), ctx.now, exported.id)
    paper = record_paper(ctx.box, record, mark)
    file = FileOut(f"record-{year}-{member.id}.pdf", b"", PDF, paper=paper)
    return Reply(record_brief(record, exported.id), file=file)
