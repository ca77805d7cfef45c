"""A WeCom group robot (群机器人) for a branch's own internal group: `/group_robot <webhook
address>` sent privately by the secretary. The address is the only key to posting there, so it
is kept encrypted, never shown back in full, and dropped when the robot is unbound. A robot
only posts: nobody's 收到 or check-in can come from that group."""

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.notify import queue_to_chat
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.groups.feature import feature
from handlers.groups.managed import refuse_other_branch
from handlers.groups.settings import GroupSettings
from storage import groups
from storage.crypto import SecretBox
from storage.group_models import BranchGroup

ROBOT_PLATFORM = "wecom_robot"  # the outbox's name for posting through robots' webhooks
ROBOT = "robot"
WEBHOOK_PATH = "/cgi-bin/webhook/send"
# WeCom issues a UUID; letters, digits and dashes, never anything a URL would have to escape.
_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")
SHOWN = 4  # characters of the key shown back: enough to tell two robots apart


def webhook_key(text: str, api_base: str) -> str | None:
    """The key of a group robot's webhook address on WeCom's API host `api_base`, or None
    when `text` is not exactly one (another host, path, scheme or query is refused)."""
    try:
        url, home = urlsplit(text.strip()), urlsplit(api_base)
        port, home_port = url.port, home.port
    except ValueError:  # a port that is no number
        return None
    path = home.path.rstrip("/") + WEBHOOK_PATH
    same_place = (url.scheme, url.hostname, port, url.path) == (
        home.scheme,
        home.hostname,
        home_port,
        path,
    )
    query = parse_qs(url.query, keep_blank_values=True)
    keys = query.get("key", [])
    if not same_place or url.fragment or set(query) != {"key"} or len(keys) != 1:
        return None
    return keys[0] if _KEY.fullmatch(keys[0]) else None


def robot_chat_id(key: str) -> str:
    """The robot's name in the outbox: a digest of its key, so setting the same robot again
    finds its row, and the key itself is nowhere but in the encrypted address."""
    return "robot:" + hashlib.sha256(key.encode()).hexdigest()[:16]


@feature.command("group_robot", roles=SECRETARY_UP, aliases=("设置群机器人",), secret_args=True)
async def group_robot(ctx: Context, args: str) -> Replies:
    """Post the branch's group messages through a group robot's webhook."""
    caller = ctx.require_caller()
    if caller.branch_id is None:
        raise UserError("error.no_branch")
    base = ctx.options.of(GroupSettings).wecom_base_url
    key = webhook_key(args, base)
    if key is None:
        # The address typed is not repeated: it may hold a key meant for another service.
        raise UserError("group.robot_bad_url", example=f"{base}{WEBHOOK_PATH}?key=…")
    chat_id = robot_chat_id(key)
    group = await groups.group_of_chat(ctx.session, ROBOT_PLATFORM, chat_id)
    if group is not None and group.bound:
        if group.branch_id != caller.branch_id:
            await refuse_other_branch(ctx, group, "group_robot")
        return Reply(Msg("group.robot_already", id=group.id, hint=key[-SHOWN:]))
    if group is None:
        group = BranchGroup(platform=ROBOT_PLATFORM, chat_id=chat_id, kind=ROBOT)
        ctx.session.add(group)
    group.branch_id = caller.branch_id
    group.title = f"…{key[-SHOWN:]}"
    group.bound_by = caller.id
    group.bound_at = ctx.now
    group.unbound_at = group.unbound_reason = None
    group.robot_url_enc = ctx.box.encrypt(args.strip())
    await ctx.session.flush()
    await ctx.trace(
        "group.bound",
        branch_id=group.branch_id,
        ref=f"group:{group.id}",
        data={"platform": ROBOT_PLATFORM, "title": group.title, "kind": ROBOT},
    )
    await queue_to_chat(
        ctx.session,
        ROBOT_PLATFORM,
        chat_id,
        Reply(Msg("group.robot_hello")),
        key=f"group-robot-hello:{group.id}:{ctx.now.isoformat()}",
        kind="group_note",
        now=ctx.now,
        branch_id=group.branch_id,
        priority=1,
    )
    return Reply(Msg("group.robot_set", id=group.id, hint=key[-SHOWN:]))


async def robot_url(session: AsyncSession, box: SecretBox, chat_id: str) -> str | None:
    """The webhook address a bound robot posts through (None: unbound, or never set)."""
    group = await groups.bound_group(session, ROBOT_PLATFORM, chat_id)
    return box.decrypt(group.robot_url_enc) if group is not None else None
