"""`/member_set NAME FIELD VALUE` (修改成员): a secretary changes a member of their branch, an
admin anyone. Without a value (or from a button of `/member NAME`) it asks for one, with a
button per role when the field is the role.
"""

from typing import Any

from handlers.account.changes import (
    USAGE,
    Editor,
    change_member,
    check_may_change,
    done,
    parse_field,
    parse_value,
)
from handlers.account.record import feature
from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import SECRETARY_UP, Replies
from storage.enums import Role
from storage.models import Member

FLOW = "member_set"


@feature.command("member_set", roles=SECRETARY_UP, aliases=("修改成员",), private_only=True)
async def member_set(ctx: Context, args: str) -> Replies:
    """Change one field of a member's record, or ask for the new value."""
    tokens = args.split(maxsplit=2)
    if len(tokens) < 2:
        raise UserError("usage", usage=USAGE)
    member = await find_member(ctx, tokens[0])  # another branch's: Denied, traced
    name = parse_field(tokens[1])
    if len(tokens) == 2:
        return await _ask(ctx, member, name)
    return await _apply(ctx, member, name, tokens[2])


@feature.flow(FLOW, roles=SECRETARY_UP)
async def member_set_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """The new value of the field asked for; a bad one is answered and asked again."""
    member = await find_member(ctx, f"#{data['member']}")
    reply = await _apply(ctx, member, data["field"], text)
    await ctx.end_flow()
    return reply


async def _ask(ctx: Context, member: Member, name: str) -> Reply:
    caller = ctx.require_caller()
    check_may_change(Editor(caller), member, name, None)  # refused now, not after typing a value
    await ctx.start_flow(FLOW, "value", {"member": member.id, "field": name})
    buttons: tuple[tuple[Button, ...], ...] = ()
    if name == "role":
        roles = [Role.MEMBER, Role.COMMITTEE, Role.SECRETARY]
        if caller.role == Role.ADMIN:
            roles.append(Role.ADMIN)
        choices = [r for r in roles if r != member.role]
        buttons = (
            tuple(Button(Msg(f"role.{r}"), f"/member_set #{member.id} role {r}") for r in choices),
        )
    return Reply(
        Msg(
            "record.ask",
            name=member.name,
            field=Msg(f"record.field.{name}"),
            hint=Msg(f"record.hint.{name}"),
        ),
        buttons=buttons,
    )


async def _apply(ctx: Context, member: Member, name: str, text: str) -> Reply:
    caller = ctx.require_caller()
    before = caller.role
    value = parse_value(name, text, ctx.today)
    change = await change_member(ctx.session, ctx.box, member, name, value, ctx.now, Editor(caller))
    # Handing over one's own secretaryship changes one's own commands too.
    return Reply(done(change), menu_role=caller.role if caller.role != before else None)
