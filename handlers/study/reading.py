"""学习: today's material, marking it 已学习, and searching the materials."""

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.payload import attachment_in
from handlers.core.registry import EVERYONE, Replies
from handlers.study import index
from handlers.study.days import day_start
from handlers.study.feature import feature
from handlers.study.materials import material_denied
from handlers.study.recommend import Recommender
from storage import materials, quizzes
from storage.materials import ReadMark, material_ref
from storage.models import Material

SHOWN_BODY = 3000  # characters of a material shown in chat; the rest is in its link or file
SEARCH_RESULTS = 5
QUERY_LIMIT = 50


def show(material: Material, why: Msg | str = "", *, learned: bool = False) -> Reply:
    """A material as a message: title, key words, text (cut), link, the document forwarded."""
    body = material.body
    if len(body) > SHOWN_BODY:
        body = body[:SHOWN_BODY] + "…"
    text = Msg(
        "study.material",
        title=material.title,
        keywords=Series(material.keywords) or "-",
        body=body,
        link=Msg("study.link", link=material.link) if material.link else "",
        why=why,
    )
    if learned:
        buttons: tuple[tuple[Button, ...], ...] = ()
    else:
        buttons = ((Button(Msg("study.learned_button"), f"/learned {material.id}"),),)
    forward = attachment_in(material.attachment) if material.attachment else None
    return Reply(text, buttons, forward=forward)


@feature.command("study", roles=EVERYONE, aliases=("学习", "今日学习"), private_only=True)
async def study(ctx: Context, args: str) -> Replies:
    """`/study` today's material for the caller; `/study ID` a given one."""
    member = ctx.require_caller()
    scope = ctx.branch_scope()
    reads = (await materials.reads_of(ctx.session, [member.id])).get(member.id, {})
    if args:
        material_id = parse_id(args)
        if material_id is None:
            raise UserError("study.usage", usage=Msg("cmd.study.usage"))
        material = await materials.get_visible(ctx.session, material_id, scope)
        if material is None:
            raise await material_denied(ctx, material_id)
        read = reads.get(material.id)
        return show(material, learned=bool(read and read.learned_at))
    todays = await _pushed_today(ctx, reads)
    if todays is not None:
        return show(todays, Msg("study.why_today"))
    return await _recommended(ctx, reads)


async def _pushed_today(ctx: Context, reads: dict[int, ReadMark]) -> Material | None:
    since = day_start(ctx.now, ctx.options.timezone)
    for read in sorted(reads.values(), key=lambda r: r.pushed_at or since, reverse=True):
        if read.pushed_at and read.pushed_at >= since and read.learned_at is None:
            return await materials.get_visible(ctx.session, read.material_id, ctx.branch_scope())
    return None


async def _recommended(ctx: Context, reads: dict[int, ReadMark]) -> Reply:
    member = ctx.require_caller()
    skip = {mid for mid, read in reads.items() if read.learned_at is not None}
    weak = (await quizzes.mistake_tags(ctx.session, [member.id])).get(member.id, {})
    recommender = Recommender(await index.current_index(ctx.session))
    for _ in range(5):  # a pick withdrawn since the index saw it: take the next
        pick = recommender.best(member.branch_id, member.interests or [], weak, skip)
        if pick is None:
            break
        material = await materials.get_visible(ctx.session, pick.material_id, member.branch_id)
        if material is not None:
            return show(material, pick.why)
        skip.add(pick.material_id)
    key = "study.all_learned" if skip else "material.none"
    return Reply(Msg(key))


@feature.command("learned", roles=EVERYONE, hidden=True, aliases=("已学习",))
async def learned(ctx: Context, args: str) -> Replies:
    """The 已学习 button: record that the caller studied the material."""
    member = ctx.require_caller()
    material_id = parse_id(args)
    if material_id is None:
        raise UserError("study.learned_usage")
    material = await materials.get_visible(ctx.session, material_id, ctx.branch_scope())
    if material is None:
        raise await material_denied(ctx, material_id)
    if not await materials.mark(ctx.session, member.id, material.id, learned_at=ctx.now):
        return Reply(Msg("study.already_learned", title=material.title))
    await ctx.trace("material.learned", member_id=member.id, ref=material_ref(material.id))
    month_start = day_start(ctx.now, ctx.options.timezone).replace(day=1)
    count = await materials.learned_since(ctx.session, member.id, month_start)
    more = Button(Msg("study.more_button"), "/materials")
    quiz = Button(Msg("study.quiz_button"), "/quiz")
    return Reply(Msg("study.learned", title=material.title, count=count), ((more, quiz),))


@feature.command("search", roles=EVERYONE, aliases=("搜索", "查找"), max_args=QUERY_LIMIT * 4)
async def search(ctx: Context, args: str) -> Replies:
    """`/search 词语`: the materials that best match, best first."""
    member = ctx.require_caller()
    scope = ctx.branch_scope()
    query = args.strip()
    if not query:
        raise UserError("search.usage", usage=Msg("cmd.search.usage"))
    if len(query) > QUERY_LIMIT:
        raise UserError("search.too_long", limit=QUERY_LIMIT)
    hits = await index.search(ctx.session, query, scope, SEARCH_RESULTS)
    data = {"query": query, "hits": [m.id for m in hits]}
    await ctx.trace("search.performed", member_id=member.id, data=data)
    if not hits:
        return Reply(Msg("search.nothing", query=query))
    lines = [
        Msg("search.line", rank=i, id=m.id, title=m.title, keywords=Series(m.keywords[:5]))
        for i, m in enumerate(hits, 1)
    ]
    rows = tuple(
        (Button(Msg("material.title_button", title=m.title[:30]), f"/study {m.id}"),) for m in hits
    )
    return Reply(Msg("search.results", query=query, lines=lines), rows)
