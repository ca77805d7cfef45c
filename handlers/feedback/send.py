"""`/feedback` (意见箱): a member sends a suggestion or a concern to the branch committee, named
(实名) or anonymous (匿名), in one line (`/feedback 匿名 内容`; `/feedback 内容` is named) or
guided (the choice by buttons, then the text). The sender gets a receipt code (回执码) to
follow the item with /feedback_status; a named item's number works too.

Anonymous: nothing the update leaves behind says who sent it. The command and its flow are
untracked (the router does not record the sender as seen), the item goes into the branch's
sealed box with only its day (storage/feedback.py), the flow's state is deleted in the same
transaction, and no trace is written now: the box's opening traces the item, with no actor.
"""

from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.registry import EVERYONE, Replies
from handlers.feedback.feature import feature
from handlers.feedback.receipt import new_receipt, shown
from handlers.meetings.domain import secretaries_of
from storage import feedback
from storage.feedback import feedback_ref, receipt_digest
from storage.feedback_models import FeedbackItem
from storage.models import Member

FLOW = "feedback"
SHORTEST, LONGEST = 5, 1000
MODES = {"实名": False, "named": False, "匿名": True, "anonymous": True}
# What may stand between the mode and the text: 匿名 内容, 匿名：内容, 匿名，内容.
_BETWEEN = " \t\n:：,，、.。-—"


def split_mode(text: str) -> tuple[bool | None, str]:
    """(anonymous or not, the rest) when `text` begins with 匿名 or 实名, else (None, text).
    Any text beginning with 匿名 is anonymous, even with nothing between (匿名反映…): taken
    for named, it would give its sender away."""
    for word, anonymous in MODES.items():
        if text.lower().startswith(word):
            return anonymous, text[len(word) :].lstrip(_BETWEEN)
    return None, text


def _mode_buttons() -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(Msg("feedback.named_button"), "/feedback 实名"),
            Button(Msg("feedback.anonymous_button"), "/feedback 匿名"),
        ),
    )


def _ask_text(anonymous: bool) -> Reply:
    mode = Msg("feedback.mode.anonymous" if anonymous else "feedback.mode.named")
    return Reply(Msg("feedback.ask_text", mode=mode, shortest=SHORTEST, longest=LONGEST))


def branch_of(ctx: Context) -> int:
    """The caller's branch, which their items go to (an admin without one sends none)."""
    branch_id = ctx.require_caller().branch_id
    if branch_id is None:
        raise UserError("error.no_branch")
    return branch_id


@feature.command(
    "feedback",
    roles=EVERYONE,
    aliases=("意见箱", "提意见"),
    secret_args=True,
    untracked=True,
    max_args=LONGEST + 10,
)
async def feedback_command(ctx: Context, args: str) -> Replies:
    """Send an item in one line, or start the guided way (实名 or 匿名, then the text)."""
    branch_of(ctx)
    if not args:
        await ctx.start_flow(FLOW, "mode")
        return Reply(Msg("feedback.ask_mode"), _mode_buttons())
    anonymous, text = split_mode(args)
    if anonymous is not None and not text:
        await ctx.start_flow(FLOW, "text", {"anonymous": anonymous})
        return _ask_text(anonymous)
    return await _send(ctx, bool(anonymous), ctx.typed(text))


@feature.flow(FLOW, roles=EVERYONE, untracked=True, free_text=True)
async def feedback_step(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """The choice of 实名 or 匿名, then the text."""
    if step == "mode":
        anonymous, rest = split_mode(text)
        if anonymous is None:
            return Reply(Msg("feedback.ask_mode_again"), _mode_buttons())
        if rest:
            return await _send(ctx, anonymous, ctx.typed(rest))
        await ctx.start_flow(FLOW, "text", {"anonymous": anonymous})
        return _ask_text(anonymous)
    if not text:
        return _ask_text(bool(data.get("anonymous")))
    return await _send(ctx, bool(data.get("anonymous")), ctx.typed(text))


async def _send(ctx: Context, anonymous: bool, text: str) -> Reply:
    text = text.strip()
    if not SHORTEST <= len(text) <= LONGEST:
        raise UserError("feedback.length", shortest=SHORTEST, longest=LONGEST, length=len(text))
    member, branch_id = ctx.require_caller(), branch_of(ctx)
    code = new_receipt()
    digest = receipt_digest(code)
    await ctx.end_flow()
    if anonymous:
        await feedback.drop(ctx.session, ctx.box, branch_id, text, digest, ctx.today)
        return Reply(Msg("feedback.sent_anonymous", code=shown(code)))
    item = await feedback.add_named(
        ctx.session,
        ctx.box,
        branch_id=branch_id,
        sender_id=member.id,
        text=text,
        digest=digest,
        day=ctx.today,
    )
    await ctx.trace(
        "feedback.submitted",
        member_id=member.id,
        ref=feedback_ref(item.id),
        data={"anonymous": False, "on": item.received_on.isoformat()},  # never the text
    )
    await _tell_committee(ctx, item, member)
    return Reply(Msg("feedback.sent_named", id=item.id, code=shown(code)))


async def _tell_committee(ctx: Context, item: FeedbackItem, sender: Member) -> None:
    """The branch committee hears of a named item at once (the words stay in the bot: the
    button shows them)."""
    readers = await secretaries_of(ctx.session, item.branch_id, committee=True)
    readers = [r for r in readers if r != sender.id]
    if not readers:
        return
    button = Button(Msg("feedback.show_button"), f"/feedback_status {item.id}")
    await queue_to_members(
        ctx.session,
        readers,
        Reply(Msg("feedback.new_named", id=item.id, name=sender.name), ((button,),)),
        key=f"feedback:new:{item.id}",
        kind="feedback.new",
        now=ctx.now,
        ref=feedback_ref(item.id),
    )
