"""/broadcast: a secretary sends a notice, in one line or guided step by step.

Guided: the content (text, or a forwarded message or document), for admins the branches, the
audience, whether 收到 is required, where it goes when a branch group is bound (私聊和群, 仅私聊,
仅群), a preview, then confirm. Each step's buttons send their data back as the answer; typing
instead of pressing gets the same question again. In one line a leading 仅群 or 仅私聊 chooses.
Another feature may start it with its own list of members as the audience (start_listed).
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series, UserError
from handlers.core.notify import why_unreached
from handlers.core.payload import attachment_out
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.notices.audience import Audience, Filter
from handlers.notices.feature import feature
from handlers.notices.message import headline
from handlers.notices.publish import Draft, check_content, publish
from handlers.notices.where import Where, notice_groups, split_where
from storage import branches, notices, people
from storage.enums import Role, Stage

FLOW = "broadcast"
Data = dict[str, Any]
Prompt = Callable[[Context, Data], Awaitable[Reply]]
# An answer either names the next step or is the final reply.
Answer = Callable[[Context, Data, str], Awaitable[str | Reply]]


def _cancel_row() -> tuple[Button, ...]:
    return (Button(Msg("broadcast.cancel_button"), "/cancel"),)


def _content(ctx: Context, text: str) -> tuple[str, dict[str, Any] | None]:
    text = ctx.typed(text)  # a notice keeps the author's punctuation
    attachments = ctx.incoming.attachments
    attachment = attachment_out(attachments[0]) if attachments else None
    check_content(text, attachment)
    return text, attachment


async def _unreachable(ctx: Context, key: str, missed: list[int]) -> Msg | str:
    """How many of the audience cannot be reached, and why, for the preview and the receipt."""
    if not missed:
        return ""
    return Msg(key, count=len(missed), why=await why_unreached(ctx.session, missed))


async def _send(ctx: Context, draft: Draft) -> Reply:
    done = await publish(ctx, draft)
    notice_id, total = done.notice.id, len(done.member_ids)
    ack = Msg("broadcast.sent_ack", id=notice_id) if draft.require_ack else ""
    if done.where == Where.GROUP:
        groups = done.groups
        only = Msg("broadcast.sent_groups_only", id=notice_id, total=total, groups=groups, ack=ack)
        return Reply(only)
    missed = [m for m in done.member_ids if m not in done.reached]
    return Reply(
        Msg(
            "broadcast.sent",
            id=notice_id,
            total=total,
            unreachable=await _unreachable(ctx, "broadcast.sent_unreachable", missed),
            groups=Msg("broadcast.sent_groups", count=done.groups) if done.groups else "",
            ack=ack,
        )
    )


# The router's guard is the whole message's length; the notice's own limit is checked here,
# with a message that says so.
@feature.command(
    "broadcast", roles=SECRETARY_UP, aliases=("发通知",), private_only=True, max_args=4096
)
async def broadcast(ctx: Context, args: str) -> Replies:
    """`/broadcast TEXT` sends to the whole branch with 收到; bare `/broadcast` guides."""
    caller = ctx.require_caller()
    if caller.role != Role.ADMIN:
        ctx.branch_scope()  # a secretary without a branch has nobody to address
    if args or ctx.incoming.attachments:
        if caller.branch_id is None:
            raise UserError("broadcast.no_branch")
        where, args = split_where(args)
        text, attachment = _content(ctx, args)
        audience = Audience((caller.branch_id,))
        return await _send(ctx, Draft(text, attachment, audience, where=where or Where.BOTH))
    await ctx.start_flow(FLOW, "content")
    return await ask_content(ctx, {})


async def start_listed(ctx: Context, audience: Audience, intro: Msg) -> Reply:
    """The guided notice to a list of members another feature chose (a group of /segments):
    the content, 收到 or not, the preview; always to private chats (see notice_groups)."""
    await ctx.start_flow(FLOW, "content", audience.to_json())
    asked = await ask_content(ctx, {})
    return replace(asked, text=Msg("broadcast.listed_intro", intro=intro, question=asked.text))


# The steps, in order: each has a prompt and an answer.


async def ask_content(ctx: Context, data: Data) -> Reply:
    return Reply(Msg("broadcast.ask_content"), (_cancel_row(),))


async def ask_scope(ctx: Context, data: Data) -> Reply:
    own = ctx.require_caller().branch_id is not None
    buttons = [Button(Msg("broadcast.scope_own"), "scope:own")] if own else []
    buttons += [
        Button(Msg("broadcast.scope_all"), "scope:all"),
        Button(Msg("broadcast.scope_pick"), "scope:pick"),
    ]
    return Reply(Msg("broadcast.ask_scope"), (tuple(buttons), _cancel_row()))


async def answer_content(ctx: Context, data: Data, text: str) -> str | Reply:
    if ctx.incoming.callback_data is not None:
        return "content"  # a button left over from an earlier step is not the notice
    data["text"], data["attachment"] = _content(ctx, text)
    if data.get("filter") == Filter.LISTED:
        return "ack"  # the flow began with its audience (start_listed)
    caller = ctx.require_caller()
    if caller.role == Role.ADMIN:
        return "scope"
    data["branches"] = [caller.branch_id]
    return "audience"


async def answer_scope(ctx: Context, data: Data, text: str) -> str | Reply:
    caller = ctx.require_caller()
    if text == "scope:own" and caller.branch_id is not None:
        data["branches"] = [caller.branch_id]
    elif text == "scope:all":
        data["branches"] = [b.id for b in await branches.current_branches(ctx.session)]
    elif text == "scope:pick":
        return "branches"
    else:
        return "scope"
    return "audience"


async def ask_branches(ctx: Context, data: Data) -> Reply:
    names = [b.name for b in await branches.current_branches(ctx.session)]
    return Reply(Msg("broadcast.ask_branches", names=Series(names)), (_cancel_row(),))


async def answer_branches(ctx: Context, data: Data, text: str) -> str | Reply:
    wanted = [n.strip() for n in text.replace("，", ",").replace("、", ",").split(",") if n.strip()]
    ids, unknown = [], []
    for name in wanted:
        branch = await people.branch_by_name(ctx.session, name)
        if branch is None or branch.archived_at is not None:  # no one to tell there
            unknown.append(name)
        elif branch.id not in ids:
            ids.append(branch.id)
    if unknown or not ids:
        raise UserError("broadcast.unknown_branches", names=Series(unknown) or text)
    data["branches"] = ids
    return "audience"


async def _recent_with_ack(ctx: Context, data: Data) -> list[tuple[Any, int, int]]:
    rows = await notices.recent(ctx.session, ctx.branch_scope(), 5, require_ack=True)
    return [r for r in rows if r[2] < r[1]]  # only notices someone has yet to acknowledge


async def ask_audience(ctx: Context, data: Data) -> Reply:
    rows: list[tuple[Button, ...]] = [
        (
            Button(Msg("audience.all"), "aud:all"),
            Button(Msg("audience.interns"), "aud:interns"),
        ),
        (Button(Msg("broadcast.by_stage"), "aud:stage"),),
    ]
    if await _recent_with_ack(ctx, data):
        rows.append((Button(Msg("broadcast.by_unacked"), "aud:unacked"),))
    return Reply(Msg("broadcast.ask_audience"), (*rows, _cancel_row()))


async def answer_audience(ctx: Context, data: Data, text: str) -> str | Reply:
    choice = text.removeprefix("aud:")
    if choice in (Filter.ALL, Filter.INTERNS):
        data["filter"] = choice
        return "ack"
    if choice == Filter.STAGE:
        return "stage"
    if choice == Filter.UNACKED:
        return "unacked"
    return "audience"


async def ask_stage(ctx: Context, data: Data) -> Reply:
    buttons = [Button(Msg(f"stage.{s}"), f"stage:{s}") for s in Stage]
    rows = (tuple(buttons[:3]), tuple(buttons[3:]), _cancel_row())
    return Reply(Msg("broadcast.ask_stage"), rows)


async def answer_stage(ctx: Context, data: Data, text: str) -> str | Reply:
    stage = text.removeprefix("stage:")
    if stage not in {s.value for s in Stage}:
        return "stage"
    data["filter"], data["stage"] = Filter.STAGE, stage
    return "ack"


async def ask_unacked(ctx: Context, data: Data) -> Reply:
    rows = []
    for n, total, acked in await _recent_with_ack(ctx, data):
        title = headline(n.text, n.attachment, 12)
        label = Msg("broadcast.unacked_choice", id=n.id, excerpt=title, left=total - acked)
        rows.append((Button(label, f"notice:{n.id}"),))
    return Reply(Msg("broadcast.ask_unacked"), (*rows, _cancel_row()))


async def answer_unacked(ctx: Context, data: Data, text: str) -> str | Reply:
    choices = {n.id for n, _, _ in await _recent_with_ack(ctx, data)}
    chosen = text.removeprefix("notice:")
    if not chosen.isdigit() or int(chosen) not in choices:
        return "unacked"
    data["filter"], data["notice"] = Filter.UNACKED, int(chosen)
    return "ack"


async def ask_ack(ctx: Context, data: Data) -> Reply:
    buttons = (
        Button(Msg("broadcast.ack_yes"), "ack:yes"),
        Button(Msg("broadcast.ack_no"), "ack:no"),
    )
    return Reply(Msg("broadcast.ask_ack"), (buttons, _cancel_row()))


async def answer_ack(ctx: Context, data: Data, text: str) -> str | Reply:
    if text not in ("ack:yes", "ack:no"):
        return "ack"
    data["ack"] = text == "ack:yes"
    return "where" if await notice_groups(ctx.session, Audience.from_json(data)) else "confirm"


def _where_choices(data: Data) -> list[Where]:
    """A notice with a file is not offered to the group alone: files go to private chats."""
    return [Where.BOTH, Where.PRIVATE] + ([] if data.get("attachment") else [Where.GROUP])


async def ask_where(ctx: Context, data: Data) -> Reply:
    count = len(await notice_groups(ctx.session, Audience.from_json(data)))
    buttons = tuple(Button(Msg(f"broadcast.where_{w}"), f"where:{w}") for w in _where_choices(data))
    return Reply(Msg("broadcast.ask_where", count=count), (buttons, _cancel_row()))


async def answer_where(ctx: Context, data: Data, text: str) -> str | Reply:
    choice = text.removeprefix("where:")
    if choice not in _where_choices(data):
        return "where"
    data["where"] = choice
    return "confirm"


def _draft(data: Data) -> Draft:
    audience = Audience.from_json(data)
    where = Where(data.get("where", Where.BOTH))
    text, attachment = data.get("text", ""), data.get("attachment")
    return Draft(text, attachment, audience, bool(data.get("ack")), where)


async def _where_to(ctx: Context, draft: Draft) -> tuple[Where, int]:
    """Where the notice will go and to how many groups, for the preview: as chosen, private
    when no group is bound."""
    count = 0
    if draft.where != Where.PRIVATE:
        count = len(await notice_groups(ctx.session, draft.audience))
    return (draft.where if count else Where.PRIVATE), count


async def ask_confirm(ctx: Context, data: Data) -> Reply:
    """A preview: the text as it will read, who gets it and who cannot be reached."""
    draft = _draft(data)
    author = ctx.require_caller()
    ids = await draft.audience.member_ids(ctx.session, ctx.today, exclude=author.id)
    reach = await people.reach(ctx.session, ids)
    where, groups = await _where_to(ctx, draft)
    missed = [m for m in ids if where != Where.GROUP and (m not in reach or reach[m].blocked)]
    names = await people.branch_names(ctx.session, draft.audience.branches)
    file_name = (draft.attachment or {}).get("file_name") or ""
    preview = Msg(
        "broadcast.preview",
        text=draft.text or Msg("notice.see_file", name=file_name),
        audience=draft.audience.describe(names),
        total=len(ids),
        unreachable=await _unreachable(ctx, "broadcast.preview_unreachable", missed),
        ack=Msg("broadcast.ack_yes" if draft.require_ack else "broadcast.ack_no"),
        where=Msg(f"broadcast.where_shown_{where}", count=groups),
    )
    confirm = (Button(Msg("broadcast.confirm_button"), "confirm:send"),)
    return Reply(preview, (confirm, _cancel_row()))


async def answer_confirm(ctx: Context, data: Data, text: str) -> str | Reply:
    if text != "confirm:send":
        return "confirm"
    await ctx.end_flow()
    return replace(await _send(ctx, _draft(data)), edit=True)


STEPS: dict[str, tuple[Prompt, Answer]] = {
    "content": (ask_content, answer_content),
    "scope": (ask_scope, answer_scope),
    "branches": (ask_branches, answer_branches),
    "audience": (ask_audience, answer_audience),
    "stage": (ask_stage, answer_stage),
    "unacked": (ask_unacked, answer_unacked),
    "ack": (ask_ack, answer_ack),
    "where": (ask_where, answer_where),
    "confirm": (ask_confirm, answer_confirm),
}


@feature.flow(FLOW, roles=SECRETARY_UP)
async def broadcast_flow(ctx: Context, step: str, data: Data, text: str) -> Replies:
    if step not in STEPS:
        await ctx.end_flow()
        return Reply(Msg("broadcast.lost"))
    outcome = await STEPS[step][1](ctx, data, text)
    if isinstance(outcome, Reply):
        return outcome
    prompt = STEPS[outcome][0]
    again = outcome == step
    await ctx.start_flow(FLOW, outcome, data)
    reply = await prompt(ctx, data)
    if again and ctx.incoming.callback_data is None:
        reply = replace(reply, text=Msg("broadcast.use_buttons", question=reply.text))
    # A pressed button's question is replaced by the next one, keeping the chat tidy.
    return replace(reply, edit=ctx.incoming.callback_data is not None)
