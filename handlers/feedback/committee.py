"""The committee's side of the feedback box: `/feedback_list` (the open items, oldest first,
with their age), `/feedback_answer 编号 内容` and `/feedback_close 编号`. An item of another
branch is "not found", traced; a named sender is told of an answer and of the close, the
answer's words sealed while they wait in the outbox; an anonymous sender reads the answer
with their receipt code (nothing kept says where to send it)."""

from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Secret, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, Replies
from handlers.core.tracer import or_own
from handlers.feedback.daily import open_boxes
from handlers.feedback.feature import feature
from handlers.feedback.status import state_of
from storage import feedback, meetings
from storage.feedback import feedback_ref
from storage.feedback_models import FeedbackItem

SHORTEST, LONGEST = 2, 1000
LISTED = 30  # items listed by /feedback_list; the rest are counted
EXCERPT = 60  # characters of an item's text in the list


@feature.command("feedback_list", roles=COMMITTEE_UP, aliases=("意见列表",), private_only=True)
async def feedback_list(ctx: Context, args: str) -> Replies:
    """The branch's open items (an admin: every branch's), oldest first; the boxes of days
    that are over are opened first. The view is traced."""
    scope = ctx.branch_scope()
    await open_boxes(ctx.session, ctx.box, ctx.now, ctx.today, None if scope is None else [scope])
    items = list(await feedback.open_items(ctx.session, scope))
    await ctx.trace(
        "data.viewed", branch_id=or_own(scope), data={"what": "feedback", "items": len(items)}
    )
    if not items:
        return Reply(Msg("feedback.list_none"))
    answers = await feedback.answers_of(ctx.session, [i.id for i in items])
    senders = [i.sender_id for i in items if i.sender_id is not None]
    names = await meetings.names(ctx.session, senders)
    lines = []
    for item in items[:LISTED]:
        who = names.get(item.sender_id, "") if item.sender_id else Msg("feedback.mode.anonymous")
        lines.append(
            Msg(
                "feedback.list_line",
                id=item.id,
                who=who,
                on=item.received_on,
                days=(ctx.today - item.received_on).days,
                state=state_of(item, len(answers.get(item.id, []))),
                text=quoted(feedback.text_of(ctx.box, item), inline=True, limit=EXCERPT),
            )
        )
    more = Msg("feedback.list_more", count=len(items) - LISTED) if len(items) > LISTED else ""
    return Reply(Msg("feedback.list", count=len(items), lines=lines, more=more))


async def _item_in_scope(ctx: Context, text: str, usage: str) -> FeedbackItem:
    """The open item numbered in `text`, of the caller's branch (an admin: any), locked."""
    item_id = parse_id(text)
    if item_id is None:
        raise UserError("usage", usage=Msg(usage))
    scope = ctx.branch_scope()
    item = await feedback.get(ctx.session, item_id, lock=True)
    if item is None or scope not in (None, item.branch_id):
        target, exists = feedback_ref(item_id), item is not None
        raise Denied("feedback.not_found", target=target, exists=exists, id=item_id)
    if item.closed_at is not None:
        raise UserError("feedback.closed_before", id=item.id)
    return item


@feature.command(
    "feedback_answer",
    roles=COMMITTEE_UP,
    aliases=("答复意见",),
    private_only=True,
    max_args=LONGEST + 20,
)
async def feedback_answer(ctx: Context, args: str) -> Replies:
    """Answer an item; a named sender is told, with the answer."""
    parts = args.split(maxsplit=1)
    if len(parts) < 2:
        raise UserError("usage", usage=Msg("cmd.feedback_answer.usage"))
    item = await _item_in_scope(ctx, parts[0], "cmd.feedback_answer.usage")
    text = ctx.typed(parts[1]).strip()
    if not SHORTEST <= len(text) <= LONGEST:
        raise UserError("feedback.answer_length", shortest=SHORTEST, longest=LONGEST)
    caller = ctx.require_caller()
    answer = await feedback.add_answer(ctx.session, ctx.box, item.id, text, caller.id, ctx.now)
    note = Msg("feedback.answered_note", id=item.id, text=Secret(quoted(text)))
    told = await _tell_sender(ctx, item, note, f"feedback:answer:{answer.id}")
    await ctx.trace(
        "feedback.answered",
        member_id=item.sender_id,
        branch_id=item.branch_id,
        ref=feedback_ref(item.id),
        data={"answer": answer.id, "told": told},  # never the words
    )
    key = "feedback.answered_anonymous" if item.anonymous else "feedback.answered"
    return Reply(Msg("feedback.answered_told" if told else key, id=item.id))


@feature.command("feedback_close", roles=COMMITTEE_UP, aliases=("办结意见",), private_only=True)
async def feedback_close(ctx: Context, args: str) -> Replies:
    """Close an item (answered or not); a named sender is told."""
    item = await _item_in_scope(ctx, args, "cmd.feedback_close.usage")
    caller = ctx.require_caller()
    item.closed_at, item.closed_by = ctx.now, caller.id
    answers = len((await feedback.answers_of(ctx.session, [item.id])).get(item.id, []))
    await _tell_sender(
        ctx, item, Msg("feedback.closed_note", id=item.id), f"feedback:close:{item.id}"
    )
    await ctx.trace(
        "feedback.closed",
        member_id=item.sender_id,
        branch_id=item.branch_id,
        ref=feedback_ref(item.id),
        data={"answers": answers},
    )
    return Reply(Msg("feedback.closed", id=item.id, answers=answers))


async def _tell_sender(ctx: Context, item: FeedbackItem, note: Msg, key: str) -> bool:
    """Queue `note` to a named item's sender (not to the committee member themselves);
    False when there is nobody to tell."""
    sender = item.sender_id
    if sender is None or sender == ctx.require_caller().id:
        return False
    button = Button(Msg("feedback.show_button"), f"/feedback_status {item.id}")
    reply = Reply(note, ((button,),))
    await queue_to_members(
        ctx.session,
        [sender],
        reply,
        key=key,
        kind="feedback.told",
        now=ctx.now,
        ref=feedback_ref(item.id),
        box=ctx.box,
    )
    return True
