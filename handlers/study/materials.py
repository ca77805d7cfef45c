"""Adding and withdrawing study materials: in chat (guided or one line) and from the CLI."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.payload import attachment_out
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.core.tracer import SessionTracer, or_own
from handlers.study.feature import feature
from handlers.study.index import material_terms
from handlers.study.text import keywords, learn, quoted_terms
from storage import materials, quizzes
from storage.crypto import SecretBox
from storage.materials import material_ref
from storage.models import Material

FLOW = "material_add"
TITLE_LIMIT = 100
LINK_LIMIT = 500
BODY_LIMIT = 200_000  # an imported book chapter; chat messages are far shorter
LISTED = 10
_URL = re.compile(r"https?://\S+")
_SPLIT = re.compile(r"\s*[|｜]\s*")


@dataclass(frozen=True)
class NewMaterial:
    title: str
    body: str = ""
    link: str | None = None
    attachment: dict[str, Any] | None = None


def check(new: NewMaterial) -> NewMaterial:
    """The material with its title and body trimmed; a UserError saying what is wrong."""
    title, body = new.title.strip(), new.body.strip()
    if not 2 <= len(title) <= TITLE_LIMIT or "\n" in title:
        raise UserError("material.bad_title", limit=TITLE_LIMIT)
    if len(body) > BODY_LIMIT:
        raise UserError("material.too_long", limit=BODY_LIMIT)
    if new.link is not None and len(new.link) > LINK_LIMIT:
        raise UserError("material.long_link", limit=LINK_LIMIT)
    if not body and not new.link and not new.attachment:
        raise UserError("material.no_content")
    return NewMaterial(title, body, new.link, new.attachment)


def digest(title: str, body: str, link: str | None) -> str:
    return hashlib.sha256(f"{title}\0{body}\0{link or ''}".encode()).hexdigest()


async def add_material(
    session: AsyncSession,
    box: SecretBox,
    new: NewMaterial,
    *,
    branch_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> tuple[Material, bool]:
    """Store a checked material with its keywords and search terms; the same title and text
    added again to the same place returns the earlier one (created False)."""
    new = check(new)
    fingerprint = digest(new.title, new.body, new.link)
    earlier = await materials.same_digest(session, fingerprint, branch_id)
    if earlier is not None:
        return earlier, False
    text = f"{new.title}\n{new.body}"
    # The bank's tags (a CLI import may have brought new ones) and the names the text
    # quotes are cut whole, so a weak tag finds this material by its own name.
    learn(await quizzes.bank_tags(session))
    learn(quoted_terms(text))
    material = Material(
        branch_id=branch_id,
        title=new.title,
        body=new.body,
        link=new.link,
        attachment=new.attachment,
        keywords=keywords(text),
        terms=material_terms(new.title, new.body),
        digest=fingerprint,
        created_by=actor_id,
        created_at=now,
    )
    session.add(material)
    await session.flush()
    await SessionTracer(session, box, now, actor_id).trace(
        "material.added",
        branch_id=branch_id,
        ref=material_ref(material.id),
        data={"title": material.title, "keywords": material.keywords},
    )
    return material, True


def _target_branch(ctx: Context) -> int | None:
    """A secretary adds to their branch; an admin's material is shared with every branch."""
    return ctx.branch_scope()


def _content(ctx: Context, text: str) -> NewMaterial:
    """Text, a lone link, or a document (with its caption as the text)."""
    text = text.strip()
    attachments = ctx.incoming.attachments
    attachment = attachment_out(attachments[0]) if attachments else None
    if _URL.fullmatch(text):
        return NewMaterial("", link=text, attachment=attachment)
    return NewMaterial("", body=text, attachment=attachment)


async def _save(ctx: Context, title: str, content: NewMaterial) -> Reply:
    caller = ctx.require_caller()
    new = NewMaterial(title, content.body, content.link, content.attachment)
    material, created = await add_material(
        ctx.session,
        ctx.box,
        new,
        branch_id=_target_branch(ctx),
        actor_id=caller.id,
        now=ctx.now,
    )
    await ctx.end_flow()
    key = "material.added" if created else "material.duplicate"
    words = Series(material.keywords) or "-"
    read = Button(Msg("material.open_button"), f"/study {material.id}")
    return Reply(Msg(key, id=material.id, title=material.title, keywords=words), ((read,),))


def open_buttons(found: Sequence[Material]) -> tuple[tuple[Button, ...], ...]:
    """A button per material that opens it (/study ID), one per row."""
    return tuple(
        (Button(Msg("material.title_button", title=m.title[:30]), f"/study {m.id}"),) for m in found
    )


def _cancel_row() -> tuple[Button, ...]:
    return (Button(Msg("broadcast.cancel_button"), "/cancel"),)


@feature.command("material_add", roles=SECRETARY_UP, aliases=("添加资料",), max_args=4096)
async def material_add(ctx: Context, args: str) -> Replies:
    """`/material_add 标题 | 正文或链接` at once; `/material_add` asks step by step."""
    _target_branch(ctx)
    if not args:
        # A document sent with the bare command as its caption is the content: ask the title.
        attachment = _content(ctx, "").attachment
        await ctx.start_flow(FLOW, "title", {"attachment": attachment} if attachment else {})
        return Reply(Msg("material.ask_title"), (_cancel_row(),))
    typed = ctx.typed(args)
    parts = _SPLIT.split(typed, maxsplit=1)
    if len(parts) != 2 and not ctx.incoming.attachments:
        raise UserError("material.one_line", usage=Msg("cmd.material_add.usage"))
    content = _content(ctx, parts[1] if len(parts) == 2 else "")
    return await _save(ctx, parts[0], content)


@feature.flow(FLOW, roles=SECRETARY_UP)
async def material_step(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    typed = ctx.typed(text) if text else ""
    if step == "title":
        check(NewMaterial(typed, body="-"))  # the title alone, so its problem is named now
        if data.get("attachment"):
            return await _save(ctx, typed, NewMaterial("", attachment=data["attachment"]))
        await ctx.start_flow(FLOW, "content", {"title": typed.strip()})
        return Reply(Msg("material.ask_content", title=typed.strip()), (_cancel_row(),))
    return await _save(ctx, str(data["title"]), _content(ctx, typed))


@feature.command("materials", roles=EVERYONE, aliases=("资料", "学习资料"))
async def material_list(ctx: Context, args: str) -> Replies:
    """The newest materials one may read, each with a button to open it."""
    if args:
        raise UserError("material.list_no_args")
    scope = ctx.branch_scope()
    found = await materials.newest(ctx.session, scope, LISTED)
    if not found:
        return Reply(Msg("material.none"))
    lines = [Msg("material.line", id=m.id, title=m.title) for m in found]
    return Reply(Msg("material.list", lines=lines), open_buttons(found[:5]))


async def material_denied(ctx: Context, material_id: int) -> Denied:
    """The answer to a material number the caller may not see (traced, as Denied is)."""
    exists = await ctx.session.get(Material, material_id) is not None
    target = material_ref(material_id)
    return Denied("material.not_found", target=target, exists=exists, id=material_id)


@feature.command("material_remove", roles=SECRETARY_UP, aliases=("撤下资料",))
async def material_remove(ctx: Context, args: str) -> Replies:
    """Withdraw a material: it is no longer searched, pushed or shown; its traces stay."""
    material_id = parse_id(args)
    if material_id is None:
        raise UserError("material.remove_usage", usage=Msg("cmd.material_remove.usage"))
    scope = ctx.branch_scope()
    material = await materials.get_visible(ctx.session, material_id, scope)
    if material is None:
        raise await material_denied(ctx, material_id)
    if scope is not None and material.branch_id != scope:
        target = material_ref(material_id)
        raise Denied("material.shared_not_yours", target=target, exists=True, id=material_id)
    material.active = False
    await ctx.trace(
        "material.removed", branch_id=or_own(material.branch_id), ref=material_ref(material.id)
    )
    return Reply(Msg("material.removed", id=material.id, title=material.title))
