"""The member a care command names: one of the caller's branch (an admin: of any) who is
counted by the six-month rule, i.e. a full or probationary member (they pay dues)."""

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Msg, UserError
from handlers.dues.standing import is_payer
from storage.models import Member


async def counted_member(ctx: Context, text: str) -> Member:
    member = await find_member(ctx, text)
    if not is_payer(member):
        raise UserError("care.not_counted", name=member.name, stage=Msg(f"stage.{member.stage}"))
    return member
