"""A year's graduates leave in one batch: `/graduate` picks them by grade, class or a list of
names, shows the preview, and on confirmation each leaves the roster (reason graduated) with
a farewell saying what happens to their data and how to transfer their relationship."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series, UserError
from handlers.core.parsing import looks_like_date, parse_date
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.moves import domain
from handlers.moves.chat import clock_of
from handlers.moves.domain import Clock
from handlers.moves.feature import feature
from handlers.moves.settings import MovesSettings
from storage import moves, people
from storage.crypto import SecretBox
from storage.enums import Departure, Role
from storage.models import Member

FLOW = "graduate"
PREVIEW_NAMES = 60
SELECTORS = {"年级": "grade", "grade": "grade", "班级": "class", "class": "class"}
LIST_WORDS = frozenset({"名单", "list"})


@dataclass(frozen=True)
class Batch:
    """Who a graduation picks, and the names of a list that matched nobody."""

    members: Sequence[Member]
    unknown: Sequence[str]


async def pick(
    session: AsyncSession, branch_id: int | None, kind: str, values: Sequence[str]
) -> Batch:
    """The active members of a grade, a class, or named (names or staff numbers)."""
    if kind == "grade":
        return Batch(await moves.members_in(session, branch_id, grade=values[0]), ())
    if kind == "class":
        return Batch(await moves.members_in(session, branch_id, class_name=values[0]), ())
    found: dict[int, Member] = {}
    unknown: list[str] = []
    for value in dict.fromkeys(values):
        matches = await people.members_matching(session, value, branch_id)
        if len(matches) == 1:
            found[matches[0].id] = matches[0]
        elif matches:
            raise UserError("graduate.ambiguous", name=value, count=len(matches))
        else:
            unknown.append(value)
    return Batch(list(found.values()), unknown)


async def graduate_all(
    session: AsyncSession,
    box: SecretBox,
    members: Sequence[Member],
    on: date,
    editor: Editor,
    clock: Clock,
    access_days: int,
) -> str:
    """Every member leaves as graduated on `on`, all or none; returns the batch's id."""
    batch = f"grad-{clock.today:%Y%m%d}-{secrets.token_hex(3)}"
    for member in members:
        await domain.depart(
            session,
            box,
            member,
            Departure.GRADUATED,
            on,
            editor,
            clock,
            access_days=access_days,
            batch=batch,
        )
    return batch


def parse_selection(args: str, today: date) -> tuple[str, list[str], date]:
    """`年级 2022级 [日期]`, `班级 化学2201 [日期]` or `名单 张三 李四 … [日期]`."""
    tokens = args.split()
    on = today
    if tokens and looks_like_date(tokens[-1]):
        on, tokens = parse_date(tokens[-1]), tokens[:-1]
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.graduate.usage"))
    word, values = tokens[0].lower(), tokens[1:]
    if word in LIST_WORDS:
        return "list", values, on
    kind = SELECTORS.get(word)
    if kind is None or len(values) != 1:
        raise UserError("usage", usage=Msg("cmd.graduate.usage"))
    return kind, values, on


@feature.command("graduate", roles=SECRETARY_UP, aliases=("毕业离校",), private_only=True)
async def graduate(ctx: Context, args: str) -> Replies:
    """Preview a graduation batch; nothing changes until it is confirmed."""
    kind, values, on = parse_selection(args, ctx.today)
    clock = clock_of(ctx)
    if on > clock.today:
        raise UserError("moves.future_date", on=on, today=clock.today)
    batch = await pick(ctx.session, ctx.branch_scope(), kind, values)
    staying = [m for m in batch.members if m.role == Role.ADMIN]
    leaving = [m for m in batch.members if m.role != Role.ADMIN]
    if not leaving:
        raise UserError("graduate.nobody", unknown=Series(batch.unknown) or "-")
    await ctx.start_flow(FLOW, "confirm", {"ids": [m.id for m in leaving], "on": on.isoformat()})
    shown = [m.name for m in leaving[:PREVIEW_NAMES]]
    more = len(leaving) - len(shown)
    notes = []
    if batch.unknown:
        notes.append(Msg("graduate.unknown", names=Series(batch.unknown)))
    if staying:
        notes.append(Msg("graduate.admins_stay", names=Series(m.name for m in staying)))
    preview = Msg(
        "graduate.preview",
        count=len(leaving),
        on=on,
        names=Series(shown),
        more=Msg("graduate.more", count=more) if more else "",
        notes=notes,
    )
    buttons = (
        (
            Button(Msg("graduate.confirm"), "/graduate_confirm"),
            Button(Msg("graduate.cancel"), "/cancel"),
        ),
    )
    return Reply(preview, buttons=buttons)


@feature.command(
    "graduate_confirm", roles=SECRETARY_UP, private_only=True, hidden=True, keeps_flow=True
)
async def graduate_confirm(ctx: Context, args: str) -> Replies:
    """Carry out the batch the preview showed (the people are checked again now)."""
    state = ctx.conversation
    if state is None or state.flow != FLOW:
        raise UserError("graduate.no_preview")
    data: dict[str, Any] = dict(state.data)
    await ctx.end_flow()
    scope = ctx.branch_scope()
    members = [await ctx.session.get(Member, i) for i in data["ids"]]
    gone = [m for m in members if m is None or not m.active or scope not in (None, m.branch_id)]
    if gone:
        raise UserError("graduate.changed")
    batch = await graduate_all(
        ctx.session,
        ctx.box,
        [m for m in members if m is not None],
        date.fromisoformat(data["on"]),
        Editor(ctx.require_caller()),
        clock_of(ctx),
        ctx.options.of(MovesSettings).former_access_days,
    )
    return Reply(Msg("graduate.done", count=len(members), batch=batch))


@feature.flow(FLOW, roles=SECRETARY_UP)
async def graduate_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """Typing 确认 confirms the previewed batch, anything else asks again."""
    if text.strip() in ("确认", "confirm", "是"):
        return await graduate_confirm(ctx, "")
    return Reply(Msg("graduate.ask_confirm"))
