"""A member's own record: `/me` summarises it, `/mydata` sends all of it as a file."""

import json
from datetime import date
from typing import Any

from handlers.access.watermark import watermark_fields
from handlers.account.personal import personal_of
from handlers.archive.export import archive_export
from handlers.archive.lines import archive_summary
from handlers.care.export import care_export
from handlers.core.context import Context
from handlers.core.messages import FileOut, Msg, Reply
from handlers.core.registry import EVERYONE, Feature, Replies
from handlers.feedback.export import feedback_export
from storage import meetings, moves, traces
from storage.models import Member
from storage.roster_models import Move

feature = Feature("profile")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def _remote_line(member: Member, today: date) -> Msg | str:
    if member.remote_until is None:
        return ""
    key = "me.remote" if member.is_remote_on(today) else "me.remote_ended"
    return Msg(key, until=member.remote_until)


@feature.command("me", aliases=("我的", "个人信息"), private_only=True, for_former=True)
async def me(ctx: Context, args: str) -> Replies:
    """The caller's profile and a count of what has been recorded about them."""
    member = ctx.require_caller()
    counts = await traces.kinds_for_member(ctx.session, member.id)
    record = [Msg("me.count", kind=Msg(f"trace.{k}"), count=n) for k, n in sorted(counts.items())]
    accounts = await member.awaitable_attrs.accounts
    platforms = sorted({a.platform for a in accounts})
    return Reply(
        Msg(
            "me.profile",
            name=member.name,
            branch=member.branch.name if member.branch else "-",
            role=Msg(f"role.{member.role}"),
            stage=Msg(f"stage.{member.stage}"),
            staff_no=member.staff_no or "-",
            phone=mask_phone(ctx.box.decrypt(member.phone_enc)) or "-",
            remote=_remote_line(member, ctx.today),
            platforms=[Msg(f"platform.{p}") for p in platforms],
            record=record or [Msg("me.no_record")],
            archive=await archive_summary(ctx.session, ctx.box, member),
        )
    )


async def member_export(ctx: Context, member: Member) -> dict[str, Any]:
    accounts = await member.awaitable_attrs.accounts
    return {
        "id": member.id,
        "name": member.name,
        "branch": member.branch.name if member.branch else None,
        "staff_no": member.staff_no,
        "role": member.role,
        "stage": member.stage,
        "remote_until": member.remote_until.isoformat() if member.remote_until else None,
        "interests": member.interests,
        "phone": ctx.box.decrypt(member.phone_enc),
        "id_number": ctx.box.decrypt(member.id_number_enc),
        "grade": member.grade,
        "class": member.class_name,
        **{k: str(v) for k, v in personal_of(ctx.box, member).items()},
        "created_at": member.created_at.isoformat(),
        "left_on": member.left_on.isoformat() if member.left_on else None,
        "left_reason": member.left_reason,
        "access_until": member.access_until.isoformat() if member.access_until else None,
        "moves": [_move_export(m) for m in await moves.of_member(ctx.session, member.id)],
        "last_platform": member.last_platform,  # where personal messages go
        "last_platform_at": member.last_platform_at.isoformat()
        if member.last_platform_at
        else None,
        "accounts": [
            {
                "platform": a.platform,
                "account": a.external_id,
                "bound_at": a.bound_at.isoformat(),
                "last_seen_at": a.last_seen_at.isoformat() if a.last_seen_at else None,
            }
            for a in accounts
        ],
    }


def _move_export(move: Move) -> dict[str, Any]:
    """A transfer or leaving as recorded (branches by id: /mydata's traces name them)."""
    return {
        "kind": move.kind,
        "from_branch": move.from_branch_id,
        "to_branch": move.to_branch_id,
        "organisation": move.organisation,
        "letter_no": move.letter_no,
        "reason": move.reason or None,
        "basis": move.basis or None,
        "on": move.on.isoformat(),
        "status": move.status,
    }


async def _leaves_export(ctx: Context, member: Member) -> list[dict[str, Any]]:
    """The member's leave requests with their reasons, which are kept encrypted (not in the
    traces), so the export still shows everything recorded about them."""
    return [
        {
            "id": r.id,
            "meeting": r.meeting_id,
            "reason": meetings.leave_reason(ctx.box, r),
            "status": r.status,
            "created_at": r.created_at.astimezone(ctx.options.timezone).isoformat(),
        }
        for r in await meetings.leaves_of(ctx.session, member.id)
    ]


@feature.command(
    "mydata",
    aliases=("我的数据", "导出我的数据"),
    private_only=True,
    roles=EVERYONE,
    for_former=True,
)
async def mydata(ctx: Context, args: str) -> Replies:
    """Everything recorded about the caller (profile, accounts, every trace) as a JSON file."""
    member = ctx.require_caller()
    rows = [
        {
            "id": t.id,
            "at": t.at.astimezone(ctx.options.timezone).isoformat(),
            "kind": t.kind,
            "member": t.member_id,
            "actor": t.actor_id,
            "ref": t.ref,
            "data": t.data,
        }
        async for t in traces.iter_traces(ctx.session, member_id=member.id)
    ]
    exported = await ctx.trace(
        "data.exported",
        member_id=member.id,
        ref=f"member:{member.id}",
        data={"what": "mydata", "format": "json", "traces": len(rows)},
    )
    at = ctx.now.astimezone(ctx.options.timezone)
    document = {
        "watermark": watermark_fields(member.name, member.id, at, exported.id),
        "exported_at": at.isoformat(),
        "profile": await member_export(ctx, member),
        "leave_requests": await _leaves_export(ctx, member),
        "archive": await archive_export(ctx.session, ctx.box, member),
        "care": await care_export(ctx.session, ctx.box, member),
        "feedback": await feedback_export(ctx.session, ctx.box, member),
        "traces": rows,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    name = f"mydata-{member.id}-{ctx.today.isoformat()}.json"
    return Reply(
        Msg("mydata.ready", traces=len(rows)),
        file=FileOut(name, content, "application/json"),
    )
