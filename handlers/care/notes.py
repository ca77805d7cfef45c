"""`/care_note NAME KIND TEXT` (secretary): a reason a member was away, a talk (谈话) held,
or the branch's conclusion; the only outcome the six-month rule knows (the bot never changes
anyone's standing). The text is kept encrypted; the trace says only its kind. Without the
text (the buttons of a notice) the next message is asked for."""

from typing import Any

from handlers.care.feature import feature
from handlers.care.lookup import counted_member
from handlers.care.rules import note_kinds
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from storage import care
from storage.models import Member

FLOW = "care_note"
MAX_NOTE = 500


def _kind(text: str) -> str:
    kind = note_kinds().kind_named(text)
    if kind is None:
        kinds = Series(Msg(f"care.note_kind.{k}") for k in note_kinds().kinds)
        raise UserError("care.note_bad_kind", value=text, kinds=kinds)
    return kind


async def _record(ctx: Context, member: Member, kind: str, text: str) -> Reply:
    text = text.strip()
    if not 2 <= len(text) <= MAX_NOTE:
        raise UserError("care.note_length", limit=MAX_NOTE)
    caller = ctx.require_caller()
    note = await care.add_note(
        ctx.session, ctx.box, member.id, kind, text, by=caller.id, now=ctx.now
    )
    await ctx.trace(
        "care.noted",
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"care_note:{note.id}",
        data={"kind": kind},  # never the text: a trace is never encrypted or erased
    )
    return Reply(
        Msg("care.noted", id=note.id, name=member.name, kind=Msg(f"care.note_kind.{kind}"))
    )


@feature.command("care_note", roles=SECRETARY_UP, aliases=("关怀记录",), private_only=True)
async def care_note(ctx: Context, args: str) -> Replies:
    """Record a care note at once, or (name and kind only) ask for its text."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2:
        raise UserError("usage", usage=Msg("cmd.care_note.usage"))
    member = await counted_member(ctx, parts[0])
    kind = _kind(parts[1])
    if len(parts) == 3:
        return await _record(ctx, member, kind, ctx.typed(parts[2]))
    await ctx.start_flow(FLOW, "text", {"member": member.id, "kind": kind})
    kind_words = Msg(f"care.note_kind.{kind}")
    return Reply(Msg("care.note_ask", name=member.name, kind=kind_words, limit=MAX_NOTE))


@feature.flow(FLOW, roles=SECRETARY_UP)
async def care_note_text(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """The note's text, typed after the button; the member is looked up again (in scope)."""
    member = await counted_member(ctx, f"#{data.get('member')}")
    reply = await _record(ctx, member, _kind(str(data.get("kind", ""))), ctx.typed(text))
    await ctx.end_flow()
    return reply
