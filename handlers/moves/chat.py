"""The moves in chat: `/transfer` (转接) within the school, `/transfers` with the receiving
branch's accept and refuse, `/transfer_out` (转出), `/transfer_in` (转入) and `/depart` for the
other ways of leaving. A secretary acts on their branch's members, an admin on anyone."""

from collections.abc import Sequence
from datetime import date

from handlers.account.changes import Editor
from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import looks_like_date, parse_date, parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.moves import domain
from handlers.moves.domain import Clock
from handlers.moves.feature import feature
from handlers.moves.settings import MovesSettings
from storage import branches, moves, people
from storage.enums import Departure
from storage.models import Branch, Member
from storage.roster_models import Move

# What a leaving's reason may be called (a transfer out has its own command: it needs a letter).
REASONS: dict[str, Departure] = {
    "毕业": Departure.GRADUATED,
    "毕业离校": Departure.GRADUATED,
    "graduated": Departure.GRADUATED,
    "停止党籍": Departure.STOPPED,
    "stopped": Departure.STOPPED,
    "出党": Departure.LEFT_PARTY,
    "开除党籍": Departure.LEFT_PARTY,
    "除名": Departure.LEFT_PARTY,
    "退党": Departure.LEFT_PARTY,
    "left_party": Departure.LEFT_PARTY,
    "去世": Departure.DIED,
    "逝世": Departure.DIED,
    "死亡": Departure.DIED,
    "died": Departure.DIED,
}


def clock_of(ctx: Context) -> Clock:
    return Clock(ctx.now, ctx.options.timezone)


def dated(tokens: list[str], today: date) -> tuple[list[str], date]:
    """The arguments without a trailing date, and that date (today when none is given)."""
    if len(tokens) > 1 and looks_like_date(tokens[-1]):
        return tokens[:-1], parse_date(tokens[-1])
    return tokens, today


async def branch_named(ctx: Context, name: str) -> Branch:
    """The branch called `name`; a former name (before a rename) says what it is called now."""
    branch = await people.branch_by_name(ctx.session, name)
    if branch is not None:
        return branch
    renamed = await branches.renamed_from(ctx.session, name)
    if renamed is not None:
        raise UserError("moves.renamed_to", old=name, new=renamed.name)
    names = Series(b.name for b in await branches.current_branches(ctx.session)) or "-"
    raise UserError("moves.unknown_branch", name=name, names=names)


@feature.command("transfer", roles=SECRETARY_UP, aliases=("转接", "校内转接"), private_only=True)
async def transfer(ctx: Context, args: str) -> Replies:
    """Transfer a member to another branch of the school from a date (today by default)."""
    tokens, on = dated(args.split(), ctx.today)
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.transfer.usage"))
    member = await find_member(ctx, tokens[0])  # another branch's: Denied, traced
    to_branch = await branch_named(ctx, " ".join(tokens[1:]))
    editor = Editor(ctx.require_caller())
    move = await domain.request_transfer(
        ctx.session, ctx.box, member, to_branch, on, editor, clock_of(ctx)
    )
    key = "moves.transferred" if move.status == "done" else "moves.requested"
    return Reply(Msg(key, name=member.name, target=to_branch.name, on=on, id=move.id))


@feature.command("transfers", roles=SECRETARY_UP, aliases=("转接申请", "待转入"), private_only=True)
async def transfers(ctx: Context, args: str) -> Replies:
    """Pending transfers into and out of the caller's branch (an admin: all), with buttons."""
    scope = ctx.branch_scope()
    pending = await moves.pending_touching(ctx.session, scope)
    if not pending:
        return Reply(Msg("moves.none_pending"))
    names = await _names(ctx, pending)
    replies = []
    for move in pending:
        incoming = scope is None or move.to_branch_id == scope
        buttons: tuple[tuple[Button, ...], ...] = ()
        if incoming:
            buttons = (
                (
                    Button(Msg("moves.accept"), f"/transfer_accept {move.id}"),
                    Button(Msg("moves.refuse"), f"/transfer_refuse {move.id}"),
                ),
            )
        line = Msg(
            "moves.pending_line",
            id=move.id,
            name=names.get(move.member_id, "-"),
            source=names.get(-(move.from_branch_id or 0), "-"),
            target=names.get(-(move.to_branch_id or 0), "-"),
            on=move.on,
        )
        replies.append(Reply(line, buttons=buttons))
    return replies


async def _names(ctx: Context, pending: Sequence[Move]) -> dict[int, str]:
    """Member names by id, and branch names by minus their id."""
    found: dict[int, str] = {}
    for move in pending:
        member = await ctx.session.get(Member, move.member_id)
        found[move.member_id] = member.name if member else "-"
        for branch_id in (move.from_branch_id, move.to_branch_id):
            if branch_id is not None and -branch_id not in found:
                branch = await ctx.session.get(Branch, branch_id)
                found[-branch_id] = branch.name if branch else "-"
    return found


async def _pending_for_receiver(ctx: Context, text: str, command: str) -> Move:
    """A pending transfer into the caller's branch (an admin: any); else Denied, traced."""
    move_id = parse_id(text.split(maxsplit=1)[0]) if text.strip() else None
    if move_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    move = await moves.get_move(ctx.session, move_id)
    scope = ctx.branch_scope()
    if move is None or scope not in (None, move.to_branch_id):
        raise Denied(
            "moves.unknown_move", target=f"move:{move_id}", exists=move is not None, id=move_id
        )
    return move


@feature.command(
    "transfer_accept", roles=SECRETARY_UP, aliases=("接收转入",), private_only=True, hidden=True
)
async def transfer_accept(ctx: Context, args: str) -> Replies:
    """The receiving branch accepts a pending transfer: it takes effect from its date."""
    move = await _pending_for_receiver(ctx, args, "transfer_accept")
    editor = Editor(ctx.require_caller())
    member = await domain.decide_transfer(ctx.session, ctx.box, move, True, editor, clock_of(ctx))
    return Reply(Msg("moves.accepted", name=member.name, on=move.on))


@feature.command(
    "transfer_refuse", roles=SECRETARY_UP, aliases=("退回转接",), private_only=True, hidden=True
)
async def transfer_refuse(ctx: Context, args: str) -> Replies:
    """The receiving branch refuses a pending transfer, with a reason for the sender."""
    move = await _pending_for_receiver(ctx, args, "transfer_refuse")
    why = args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else ""
    editor = Editor(ctx.require_caller())
    member = await domain.decide_transfer(
        ctx.session, ctx.box, move, False, editor, clock_of(ctx), ctx.typed(why) if why else ""
    )
    return Reply(Msg("moves.refused", name=member.name))


@feature.command("transfer_out", roles=SECRETARY_UP, aliases=("转出",), private_only=True)
async def transfer_out(ctx: Context, args: str) -> Replies:
    """Transfer a member out of the school: to whom, the introduction letter's number, when."""
    tokens, on = dated(args.split(), ctx.today)
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.transfer_out.usage"))
    member = await find_member(ctx, tokens[0])
    if len(tokens) < 3:
        raise UserError("moves.no_letter")
    organisation, letter_no = " ".join(tokens[1:-1]), tokens[-1]
    move = await domain.depart(
        ctx.session,
        ctx.box,
        member,
        Departure.TRANSFERRED_OUT,
        on,
        Editor(ctx.require_caller()),
        clock_of(ctx),
        access_days=ctx.options.of(MovesSettings).former_access_days,
        organisation=organisation,
        letter_no=letter_no,
    )
    return Reply(Msg("moves.left", name=member.name, reason=Msg(f"departure.{move.reason}"), on=on))


@feature.command("depart", roles=SECRETARY_UP, aliases=("离开名册", "党员减少"), private_only=True)
async def depart(ctx: Context, args: str) -> Replies:
    """A member leaves the roster for a reason (毕业, 停止党籍, 出党, 去世), with its basis."""
    tokens = args.split()
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.depart.usage"))
    member = await find_member(ctx, tokens[0])
    reason = REASONS.get(tokens[1].lower())
    if reason is None:
        if tokens[1] in ("转出", "transferred_out"):
            raise UserError("moves.use_transfer_out")
        raise UserError("moves.bad_reason", value=tokens[1], usage=Msg("cmd.depart.usage"))
    rest = tokens[2:]
    on = ctx.today
    if rest and looks_like_date(rest[0]):
        on, rest = parse_date(rest[0]), rest[1:]
    move = await domain.depart(
        ctx.session,
        ctx.box,
        member,
        reason,
        on,
        Editor(ctx.require_caller()),
        clock_of(ctx),
        access_days=ctx.options.of(MovesSettings).former_access_days,
        basis=ctx.typed(" ".join(rest)) if rest else "",
    )
    return Reply(Msg("moves.left", name=member.name, reason=Msg(f"departure.{move.reason}"), on=on))


@feature.command("transfer_in", roles=SECRETARY_UP, aliases=("转入",), private_only=True)
async def transfer_in(ctx: Context, args: str) -> Replies:
    """Add a member transferred in from outside the school to the caller's branch."""
    caller = ctx.require_caller()
    if caller.branch is None:
        raise UserError("error.no_branch")
    tokens, on = dated(args.split(), ctx.today)
    if len(tokens) < 3:
        raise UserError("usage", usage=Msg("cmd.transfer_in.usage"))
    name, organisation, letter_no = tokens[0], " ".join(tokens[1:-1]), tokens[-1]
    move = await domain.transfer_in(
        ctx.session,
        ctx.box,
        caller.branch,
        name,
        organisation,
        letter_no,
        on,
        Editor(caller),
        clock_of(ctx),
    )
    organisation, letter_no = move.organisation or "", move.letter_no or ""
    return Reply(
        Msg("moves.transferred_in", name=name, source=organisation, letter_no=letter_no, on=on)
    )
