"""`/member NAME` (成员): everything the viewer may see of a member, with the record's history
from the traces and, for those who may change it, a button per field.

Committee members see their branch's members with the phone masked and the personal fields
(性别, 民族, 出生日期, 学历, 籍贯) hidden; secretaries see them in full and may change them;
admins see everyone. Everyone who may see the record sees the archive's summary. Viewing
someone else is traced (data.viewed).
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from handlers.account.changes import FIELDS, ROSTER_FIELDS, SECRET_FIELDS, shown
from handlers.account.personal import PERSONAL_FIELDS, personal_of
from handlers.account.profile import mask_phone
from handlers.account.record import feature
from handlers.archive.lines import archive_summary
from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series, UserError
from handlers.core.registry import COMMITTEE_UP, SECRETARY_UP, Replies
from storage import access, roster
from storage.enums import ROLE_RANK, Role
from storage.models import Member, Trace

HISTORY_SHOWN = 20
# How other features' record events read in the history, by trace kind (the moves feature
# registers its transfers and leavings): each turns a trace's data into a line.
HISTORY_LINES: dict[str, Callable[[dict[str, Any]], Msg]] = {}


@feature.command("member", roles=COMMITTEE_UP, aliases=("成员", "成员档案"), private_only=True)
async def member_command(ctx: Context, args: str) -> Replies:
    """A member of the caller's branch (an admin: anyone) by name, staff number or #id."""
    caller = ctx.require_caller()
    text = args.strip()
    if not text:
        raise UserError("usage", usage=Msg("cmd.member.usage"))
    # Another branch's: Denied, traced by the router; one who left stays readable.
    member = await find_member(ctx, text, left_too=True)
    await ctx.trace_view_of(member, "member", ref=f"member:{member.id}")
    if not member.active:  # a record to read, not to change
        return Reply(
            Msg("record.left_view", status=_left(member), record=await _record(ctx, member))
        )
    return Reply(await _record(ctx, member), buttons=edit_buttons(caller, member))


def _left(member: Member) -> Msg:
    if member.left_on is None:  # left before moves were recorded (the pipeline's cancellation)
        return Msg("record.inactive")
    reason = Msg(f"departure.{member.left_reason}")
    return Msg("record.left", reason=reason, on=member.left_on)


def may_edit(caller: Member, member: Member) -> bool:
    """The rule changes follow (handlers/account/changes.py), to offer buttons only then."""
    if caller.role not in SECRETARY_UP:
        return False
    if caller.role == Role.ADMIN or caller.id == member.id:
        return True
    return ROLE_RANK[Role(member.role)] < ROLE_RANK[Role(caller.role)]


def edit_buttons(caller: Member, member: Member) -> tuple[tuple[Button, ...], ...]:
    if not may_edit(caller, member):
        return ()
    fields = [f for f in FIELDS if not (f == "role" and caller.id == member.id)]
    buttons = [Button(Msg(f"record.edit.{f}"), f"/member_set #{member.id} {f}") for f in fields]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


async def _record(ctx: Context, member: Member) -> Msg:
    caller = ctx.require_caller()
    accounts = await member.awaitable_attrs.accounts
    platforms = Series(Msg(f"platform.{p}") for p in sorted({a.platform for a in accounts}))
    phone = ctx.box.decrypt(member.phone_enc)
    if caller.role not in SECRETARY_UP:
        phone = mask_phone(phone)
    return Msg(
        "record.view",
        id=member.id,
        name=member.name,
        branch=member.branch.name if member.branch else "-",
        role=Msg(f"role.{member.role}"),
        stage=Msg(f"stage.{member.stage}"),
        staff_no=member.staff_no or "-",
        phone=phone or Msg("record.none"),
        remote=_remote(member, ctx.today),
        grade=member.grade or "-",
        class_name=member.class_name or "-",
        personal=_personal(ctx, member),
        platforms=platforms or Msg("record.no_platform"),
        archive=await archive_summary(ctx.session, ctx.box, member),
        branches=await _branches(ctx, member),
        history=await _history(ctx, member),
    )


def _personal(ctx: Context, member: Member) -> Msg:
    """The encrypted personal fields, for secretaries and admins only (committee members see
    that there are such fields, not their values, as the phone is masked for them)."""
    if ctx.require_caller().role not in SECRETARY_UP:
        return Msg("record.personal_hidden")
    found = personal_of(ctx.box, member)
    return Msg("record.personal", **{f: found.get(f, "-") for f in PERSONAL_FIELDS})


def _remote(member: Member, today: date) -> Msg:
    if member.remote_until is None:
        return Msg("record.none")
    key = "record.remote" if member.is_remote_on(today) else "record.remote_ended"
    return Msg(key, until=member.remote_until)


async def _branches(ctx: Context, member: Member) -> list[Msg]:
    """The branches the member has belonged to, with the days (in the school's time zone)."""
    stretches = await roster.memberships_of(ctx.session, member.id)
    names = await access.branch_names(ctx.session, sorted({s.branch_id for s in stretches}))
    zone = ctx.options.timezone
    return [
        Msg(
            "record.branch_line",
            branch=names.get(s.branch_id, "-"),
            since=s.since.astimezone(zone).date(),
            until=s.until.astimezone(zone).date() if s.until else Msg("record.until_now"),
        )
        for s in stretches
    ] or [Msg("record.no_branch_history")]


async def _history(ctx: Context, member: Member) -> list[Msg]:
    found = await roster.history(ctx.session, member.id, HISTORY_SHOWN)
    names = await access.names(ctx.session, sorted({t.actor_id for t in found if t.actor_id}))
    return [
        Msg("record.history_line", at=t.at, who=_who(t, names), what=_what(t)) for t in found
    ] or [Msg("record.no_history")]


def _who(trace: Trace, names: dict[int, str]) -> Msg | str:
    if trace.actor_id is not None:
        return names.get(trace.actor_id, f"#{trace.actor_id}")
    user = (trace.data or {}).get("by")
    return Msg("record.by_cli_user", user=user) if user else Msg("record.by_cli")


def _what(trace: Trace) -> Msg:
    data = trace.data or {}
    if trace.kind in HISTORY_LINES:
        return HISTORY_LINES[trace.kind](data)
    name = data.get("field")
    if trace.kind != "member.changed" or name not in (*FIELDS, *ROSTER_FIELDS):
        return Msg(f"trace.{trace.kind}")
    # The roster's further fields (a roster import's changes) go by their column's name.
    label = Msg(f"record.field.{name}") if name in FIELDS else Msg(f"roster.col.{name}")
    if name in SECRET_FIELDS:
        key = "record.hist_secret_cleared" if data.get("cleared") else "record.hist_secret"
        return Msg(key, field=label)
    return Msg(
        "record.hist_changed",
        field=label,
        old=shown(name, data.get("old")),
        new=shown(name, data.get("new")),
        handover=Msg("record.hist_handover") if data.get("because") == "handover" else "",
    )
