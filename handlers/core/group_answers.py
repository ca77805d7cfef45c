"""How the bot answers in a group chat, so that nothing of a person's record is ever shown
there and the group's own rate limit is kept.

A command's answer goes where the command says (Command.in_group): privately by default, with
a short note in the group; in the group for the few commands made for it, queued through the
outbox so the group's limit (20 a minute on Telegram) paces it with the bot's other posts. A
button pressed in a group is answered on the presser's screen (a toast), never by a message
the whole group sees. Files and pictures never go to a group.
"""

from dataclasses import replace

from handlers.core.context import Context, DeepLinker
from handlers.core.incoming import Incoming
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import queue_to_chat
from handlers.core.registry import HERE, PRIVATELY, QUIETLY, Command

# The code the bot's private chat is opened with from a group (/start group): it explains
# how to bind, since nobody's invite code is ever shown in a group.
FROM_GROUP = "group"
# Answers to errors (not bound yet) that invite the sender to the bot's private chat.
_NEEDS_PRIVATE_CHAT = frozenset({"error.not_bound", "error.private_only"})


def private_chat_button(deep_link: DeepLinker, platform: str) -> tuple[tuple[Button, ...], ...]:
    link = deep_link(platform, FROM_GROUP)
    return ((Button(Msg("group_answer.open_private"), "", url=link),),) if link else ()


def answer_reply_privately(ctx: Context, reply: Reply) -> Reply:
    """A refusal of a reply to one of the bot's posts (接龙 +1, a code) goes to the sender's
    private chat, as its success would: the group is not told of every wrong try."""
    inc = ctx.incoming
    private = ctx.account.chat_id if ctx.account is not None else None
    if inc.is_private or inc.reply_to is None or inc.text.startswith("/") or private is None:
        return reply
    return replace(reply, chat=private)


def answer_failure_in_group(incoming: Incoming, reply: Reply, deep_link: DeepLinker) -> Reply:
    """A refusal or error answered in a group: on the presser's screen for a button; in the
    group otherwise (it names nobody's data), with the way to the private chat when that is
    what the sender needs."""
    if incoming.is_private or reply.chat is not None:
        return reply
    needs_chat = reply.text is not None and reply.text.key in _NEEDS_PRIVATE_CHAT
    if incoming.callback_data is not None:
        link = deep_link(incoming.platform, FROM_GROUP) if needs_chat else None
        return replace(reply, toast=True, link=link)
    if needs_chat:
        return replace(reply, buttons=private_chat_button(deep_link, incoming.platform))
    return reply


async def answer_in_group(
    ctx: Context, command: Command | None, replies: list[Reply], deep_link: DeepLinker
) -> list[Reply]:
    """The handler's replies to a group message, sent where they may go; what goes to the
    group is queued in this update's transaction."""
    inc = ctx.incoming
    if inc.callback_data is not None:
        return _as_toast(ctx, replies)
    mode = command.in_group if command is not None else QUIETLY
    private = ctx.account.chat_id if ctx.account is not None else None
    if mode == HERE:
        personal = [r for r in replies if not _fits_group(r)]
        for index, reply in enumerate(r for r in replies if _fits_group(r)):
            await _to_group(ctx, reply, index)
        replies = personal
    if not replies:
        return []
    if private is None:  # not bound here, or never wrote to the bot privately
        note = Reply(
            Msg("group_answer.open_private_first"), private_chat_button(deep_link, inc.platform)
        )
        await _to_group(ctx, note, 0)
        return []
    if mode == PRIVATELY:
        name = inc.display_name or ""
        await _to_group(ctx, Reply(Msg("group_answer.answered_privately", name=name)), 0)
    return [replace(r, chat=private, edit=False) for r in replies]


def _fits_group(reply: Reply) -> bool:
    """Only text and buttons go to a group: a file or picture is someone's record."""
    return reply.image is None and reply.file is None and reply.forward is None


def _as_toast(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """A button pressed in a group: its first text is shown to the presser alone; anything
    more (a file, a second message) goes to their private chat."""
    private = ctx.account.chat_id if ctx.account is not None else None
    out: list[Reply] = []
    for reply in replies:
        if not out and reply.text is not None and _fits_group(reply):
            out.append(Reply(reply.text, toast=True))
        elif private is not None:
            out.append(replace(reply, chat=private, edit=False))
    return out


async def _to_group(ctx: Context, reply: Reply, index: int) -> None:
    inc = ctx.incoming
    group = ctx.group
    await queue_to_chat(
        ctx.session,
        inc.platform,
        inc.chat_id,
        reply,
        key=f"group-answer:{inc.platform}:{inc.update_key or ctx.now.isoformat()}:{index}",
        kind="group_answer",
        now=ctx.now,
        branch_id=group.branch_id if group is not None else None,
        priority=1,
    )
