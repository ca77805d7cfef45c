"""`/feedback_status 回执码` (anyone with the code) or `/feedback_status 编号` (a named item's
sender, the branch committee, admins): the item, where it stands and the committee's answers.

A receipt code is how an anonymous sender follows their item: the code alone finds it, never
the caller, so looking is untracked and traced only when the code is wrong. The number of an
anonymous item is never shown to a code holder (asking for it by number would name them).
"""

from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, EVERYONE, Replies
from handlers.feedback.feature import feature
from handlers.feedback.receipt import as_receipt
from storage import feedback, meetings
from storage.enums import Role
from storage.feedback import feedback_ref, receipt_digest
from storage.feedback_models import FeedbackItem

RECEIPT_TARGET = "feedback:receipt"  # a wrong code's refusal names no code


def state_of(item: FeedbackItem, answers: int) -> Msg:
    if item.closed_at is not None:
        return Msg("feedback.state.closed")
    return Msg("feedback.state.answered" if answers else "feedback.state.open")


def is_committee_of(ctx: Context, branch_id: int) -> bool:
    """The caller is on the item's branch committee (or an admin)."""
    caller = ctx.require_caller()
    if ctx.role == Role.ADMIN:
        return True
    return ctx.role in COMMITTEE_UP and caller.branch_id == branch_id


@feature.command(
    "feedback_status",
    roles=EVERYONE,
    aliases=("意见回执", "查询意见"),
    secret_args=True,
    untracked=True,
    for_former=True,
)
async def feedback_status(ctx: Context, args: str) -> Replies:
    """An item by its receipt code or by its number."""
    if not args:
        raise UserError("usage", usage=Msg("cmd.feedback_status.usage"))
    item_id = parse_id(args)
    if item_id is not None:
        return await _by_number(ctx, item_id)
    code = as_receipt(args)
    if code is None:
        raise UserError("feedback.bad_receipt", value=args[:20])
    return await _by_receipt(ctx, receipt_digest(code))


async def _by_receipt(ctx: Context, digest: str) -> Reply:
    item = await feedback.by_receipt(ctx.session, digest)
    if item is not None:
        return await shown_item(ctx, item, numbered=not item.anonymous)
    day = await feedback.waiting_since(ctx.session, ctx.box, digest)
    if day is None:
        raise Denied("feedback.no_receipt", target=RECEIPT_TARGET, exists=False)
    return Reply(Msg("feedback.waiting", on=day))


async def _by_number(ctx: Context, item_id: int) -> Reply:
    """The sender's own named item, or any item of the committee's branch; else "not
    found", traced. A committee member's look at a named item is traced as a view."""
    item = await feedback.get(ctx.session, item_id)
    caller = ctx.require_caller()
    own = item is not None and item.sender_id == caller.id
    if item is None or not (own or is_committee_of(ctx, item.branch_id)):
        target, exists = feedback_ref(item_id), item is not None
        raise Denied("feedback.not_found", target=target, exists=exists, id=item_id)
    if not own:
        await ctx.trace(
            "data.viewed",
            member_id=item.sender_id,
            branch_id=item.branch_id,
            ref=feedback_ref(item.id),
            data={"what": "feedback"},
        )
    return await shown_item(ctx, item, numbered=True)


async def shown_item(ctx: Context, item: FeedbackItem, *, numbered: bool) -> Reply:
    """The item in full with its answers; `numbered`: with its number and (named) sender."""
    answers = (await feedback.answers_of(ctx.session, [item.id])).get(item.id, [])
    lines = [
        Msg(
            "feedback.answer_line",
            on=a.answered_at.astimezone(ctx.options.timezone).date(),
            text=quoted(feedback.text_of(ctx.box, a)),
        )
        for a in answers
    ]
    who: Msg | str = Msg("feedback.mode.anonymous")
    if item.sender_id is not None:
        who = (await meetings.names(ctx.session, [item.sender_id])).get(item.sender_id, "")
    head = Msg("feedback.head_numbered", id=item.id, who=who) if numbered else ""
    text = Msg(
        "feedback.one",
        head=head,
        on=item.received_on,
        state=state_of(item, len(answers)),
        text=quoted(feedback.text_of(ctx.box, item)),
        answers=lines or Msg("feedback.no_answer"),
    )
    return Reply(text)
