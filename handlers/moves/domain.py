"""Moving a member on the roster, shared by chat commands and the CLI.

A transfer within the school (转接) moves the member with their whole history: memberships
say which branch they belonged to on each day, so records before the transfer date stay
counted in the old branch. A secretary's transfer waits for the receiving branch (转入确认);
an admin's or an operator's takes effect at once. Leaving (转出 out of the school, graduation,
停止党籍, 出党, death) makes the member inactive from the day given; nobody is deleted and the
member keeps /mydata for a configured period (not after death).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor
from handlers.account.members import NewMember, add_member
from handlers.core.messages import Msg, RecordedRefusal, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import valid_name
from handlers.core.tracer import SessionTracer
from storage import moves, people, roster
from storage.crypto import SecretBox
from storage.enums import Departure, MoveKind, MoveStatus, Role
from storage.models import Branch, Member, Trace
from storage.roster_models import Move

# Roles tied to a branch: a member who moves on holds none of them in the new branch.
BRANCH_ROLES = frozenset({Role.COMMITTEE, Role.SECRETARY})
LETTER_NO_LIMIT = 64
ORGANISATION_LIMIT = 200
BASIS_LIMIT = 300


@dataclass(frozen=True)
class Clock:
    """The instant of the change and the school's zone (a day starts at its midnight)."""

    now: datetime
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone)


@dataclass(frozen=True)
class Wholesale:
    """A member moved as part of a whole branch's change (a merge or a split), which an
    admin or an operator makes: at once, with `because` in the trace and `reason` on the
    memberships, each member told `told`, and the secretaries told once for the whole
    change by the caller instead of once per member."""

    because: str  # "merge" | "split"
    told: Msg
    reason: str = "transferred"


async def effective_at(session: AsyncSession, member: Member, on: date, clock: Clock) -> datetime:
    """The instant a move on `on` takes effect: that day's start, or the start of the
    member's current stretch if it began later that day. The day is today or past, and not
    before the current stretch began (history before it is not rewritten)."""
    if on > clock.today:
        raise UserError("moves.future_date", on=on, today=clock.today)
    stretches = await roster.memberships_of(session, member.id)
    open_since = [s.since for s in stretches if s.until is None]
    began = max(open_since) if open_since else member.created_at
    if on < began.astimezone(clock.zone).date():
        since = began.astimezone(clock.zone).date()
        raise UserError("moves.before_joining", name=member.name, on=on, since=since)
    return max(clock.start_of(on), began)


def check_text(value: str, limit: int, key: str) -> str:
    value = value.strip()
    if not value:
        raise UserError(key)
    if len(value) > limit:
        raise UserError("moves.too_long", limit=limit)
    return value


def tracer_for(
    session: AsyncSession, box: SecretBox, clock: Clock, editor: Editor
) -> SessionTracer:
    """The trace door for a change `editor` makes (no actor: an operator at the CLI)."""
    return SessionTracer(session, box, clock.now, editor.member.id if editor.member else None)


async def trace(
    session: AsyncSession,
    box: SecretBox,
    clock: Clock,
    editor: Editor,
    kind: str,
    member: Member,
    branch_id: int | None,
    data: dict[str, Any],
) -> Trace:
    return await tracer_for(session, box, clock, editor).trace(
        kind,
        branch_id=branch_id,
        member_id=member.id,
        ref=f"member:{member.id}",
        data={**data, **editor.trace_data()},
    )


async def tell(
    session: AsyncSession, member_ids: list[int], what: Msg, key: str, clock: Clock
) -> None:
    """Tell people of a move through the outbox (they may be on another chat app)."""
    if member_ids:
        await queue_to_members(
            session,
            sorted(set(member_ids)),
            Reply(what),
            key=key,
            kind="member_move",
            now=clock.now,
        )


# --- within the school -----------------------------------------------------------------


async def request_transfer(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    to_branch: Branch,
    on: date,
    editor: Editor,
    clock: Clock,
    wholesale: Wholesale | None = None,
) -> Move:
    """Transfer `member` to `to_branch` from `on`: at once for an admin or an operator (or
    as part of a branch's merge or split), else pending until the receiving branch's
    secretary accepts."""
    if member.branch_id is None:
        raise UserError("moves.no_branch", name=member.name)
    if to_branch.id == member.branch_id:
        raise UserError("moves.same_branch", name=member.name, branch=to_branch.name)
    if to_branch.archived_at is not None:
        raise UserError("moves.archived", branch=to_branch.name)
    await effective_at(session, member, on, clock)
    await people.lock_member(session, member.id)
    if await moves.pending_for(session, member.id) is not None:
        raise UserError("moves.already_pending", name=member.name)
    move = Move(
        member_id=member.id,
        kind=MoveKind.WITHIN,
        from_branch_id=member.branch_id,
        to_branch_id=to_branch.id,
        on=on,
        status=MoveStatus.PENDING,
        requested_by=editor.member.id if editor.member else None,
        created_at=clock.now,
    )
    session.add(move)
    await session.flush()
    direct = editor.member is None or editor.member.role == Role.ADMIN
    if direct or wholesale is not None:
        await complete_transfer(session, box, move, member, editor, clock, wholesale)
        return move
    data = {"move": move.id, "from": member.branch.name if member.branch else None}
    data |= {"to": to_branch.name, "on": on.isoformat()}
    await trace(
        session, box, clock, editor, "member.transfer_requested", member, member.branch_id, data
    )
    receivers = [m.id for m in await roster.secretaries_of(session, to_branch.id)]
    asked = Msg(
        "moves.asked_to_accept",
        name=member.name,
        source=member.branch.name if member.branch else "-",
        on=on,
        id=move.id,
    )
    await tell(session, receivers, asked, f"move-asked:{move.id}", clock)
    return move


async def complete_transfer(
    session: AsyncSession,
    box: SecretBox,
    move: Move,
    member: Member,
    editor: Editor,
    clock: Clock,
    wholesale: Wholesale | None = None,
) -> None:
    """The transfer takes effect: the member belongs to the new branch from the move's day."""
    to_branch = await session.get(Branch, move.to_branch_id)
    old_branch = member.branch
    if to_branch is None or to_branch.archived_at is not None:
        raise UserError("moves.archived", branch=to_branch.name if to_branch else "-")
    at = await effective_at(session, member, move.on, clock)
    reason = wholesale.reason if wholesale else "transferred"
    await roster.move_membership(session, member, to_branch, at, reason, reason)
    old_role = member.role
    if old_role in BRANCH_ROLES:
        member.role = Role.MEMBER  # a branch office does not travel with its holder
    move.status = MoveStatus.DONE
    move.decided_by = editor.member.id if editor.member else None
    move.decided_at = clock.now
    data: dict[str, Any] = {"move": move.id, "from": old_branch.name if old_branch else None}
    data |= {"to": to_branch.name, "on": move.on.isoformat()}
    if old_role != member.role:
        data["role"] = {"old": old_role, "new": member.role}
    if wholesale is not None:
        data["because"] = wholesale.because
    await trace(session, box, clock, editor, "member.transferred", member, to_branch.id, data)
    told = (
        wholesale.told
        if wholesale
        else Msg(
            "moves.told_transferred", source=data["from"] or "-", target=to_branch.name, on=move.on
        )
    )
    await tell(session, [member.id], told, f"move-done:{move.id}", clock)
    if wholesale is None:  # else the secretaries hear of the whole change once
        await _tell_staff(session, move, member, old_branch, to_branch, editor, clock)


async def _tell_staff(
    session: AsyncSession,
    move: Move,
    member: Member,
    old_branch: Branch | None,
    to_branch: Branch,
    editor: Editor,
    clock: Clock,
) -> None:
    """Both branches' secretaries hear of a transfer (not the one who made it)."""
    staff = [m.id for m in await roster.secretaries_of(session, to_branch.id)]
    if old_branch is not None:
        staff += [m.id for m in await roster.secretaries_of(session, old_branch.id)]
    if editor.member is not None:
        staff = [i for i in staff if i != editor.member.id]
    news = Msg(
        "moves.staff_transferred",
        name=member.name,
        source=old_branch.name if old_branch else "-",
        target=to_branch.name,
        on=move.on,
    )
    await tell(session, [i for i in staff if i != member.id], news, f"move-staff:{move.id}", clock)


async def decide_transfer(
    session: AsyncSession,
    box: SecretBox,
    move: Move,
    accept: bool,
    editor: Editor,
    clock: Clock,
    why: str = "",
) -> Member:
    """The receiving branch accepts (the transfer takes effect) or refuses (with a reason)."""
    member = await session.get(Member, move.member_id)
    if member is None or move.status != MoveStatus.PENDING:
        raise UserError("moves.not_pending", id=move.id)
    if not member.active or member.branch_id != move.from_branch_id:
        move.status = MoveStatus.CANCELLED  # kept: the answer is committed with it
        raise RecordedRefusal("moves.stale", id=move.id, name=member.name)
    if accept:
        await complete_transfer(session, box, move, member, editor, clock)
        return member
    move.status = MoveStatus.REFUSED
    move.decided_by = editor.member.id if editor.member else None
    move.decided_at = clock.now
    data = {"move": move.id, "why": why[:BASIS_LIMIT]}
    await trace(
        session, box, clock, editor, "member.transfer_refused", member, move.to_branch_id, data
    )
    if move.requested_by is not None:
        to_branch = await session.get(Branch, move.to_branch_id)
        told = Msg(
            "moves.told_refused",
            name=member.name,
            target=to_branch.name if to_branch else "-",
            why=why or Msg("moves.no_reason"),
        )
        await tell(session, [move.requested_by], told, f"move-refused:{move.id}", clock)
    return member


# --- out of the school, and in ------------------------------------------------------------


async def depart(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    reason: Departure,
    on: date,
    editor: Editor,
    clock: Clock,
    *,
    access_days: int,
    basis: str = "",
    organisation: str | None = None,
    letter_no: str | None = None,
    batch: str | None = None,
) -> Move:
    """The member leaves the roster from `on` for `reason`: inactive, their membership closed,
    pending transfers cancelled, a farewell saying what happens to their data (not after a
    death). A transfer out needs the organisation and the introduction letter's number."""
    if reason == Departure.TRANSFERRED_OUT:
        organisation = check_text(organisation or "", ORGANISATION_LIMIT, "moves.no_organisation")
        letter_no = check_text(letter_no or "", LETTER_NO_LIMIT, "moves.no_letter")
    if reason in (Departure.STOPPED, Departure.LEFT_PARTY):
        basis = check_text(basis, BASIS_LIMIT, "moves.no_basis")
    basis = basis.strip()[:BASIS_LIMIT]
    if member.role == Role.ADMIN:
        raise UserError("moves.admin_stays", name=member.name)
    at = await effective_at(session, member, on, clock)
    await people.lock_member(session, member.id)
    branch = member.branch
    for pending in await moves.pending_of(session, member.id):
        pending.status = MoveStatus.CANCELLED
    await roster.move_membership(session, member, None, at, "", reason)
    member.branch = branch  # the last branch stays on the record; `active` says they left
    member.active = False
    member.left_on = on
    member.left_reason = reason
    member.access_until = None if reason == Departure.DIED else on + timedelta(days=access_days)
    move = await _record_done(
        session,
        member,
        MoveKind.OUT if reason == Departure.TRANSFERRED_OUT else MoveKind.LEAVE,
        on,
        editor,
        clock,
        from_branch_id=branch.id if branch else None,
        organisation=organisation,
        letter_no=letter_no,
        reason=reason,
        basis=basis,
        batch=batch,
    )
    data: dict[str, Any] = {"move": move.id, "reason": reason, "on": on.isoformat()}
    data |= {
        k: v for k, v in (("to", organisation), ("letter_no", letter_no), ("batch", batch)) if v
    }
    if basis:
        data["basis"] = basis
    await trace(
        session, box, clock, editor, "member.left", member, branch.id if branch else None, data
    )
    if member.access_until is not None:
        farewell = Msg(
            f"moves.farewell.{reason}",
            name=member.name,
            branch=branch.name if branch else "-",
            on=on,
            to=organisation or "",
            letter_no=letter_no or "",
            until=member.access_until,
        )
        await tell(session, [member.id], farewell, f"move-farewell:{move.id}", clock)
    return move


async def transfer_in(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    name: str,
    organisation: str,
    letter_no: str,
    on: date,
    editor: Editor,
    clock: Clock,
) -> Move:
    """Add a member transferred in from outside the school (转入), recording where they come
    from and the introduction letter's number (as checked, in the Move returned); their invite
    code is made separately."""
    if not valid_name(name):
        raise UserError("moves.bad_name", value=name)
    organisation = check_text(organisation, ORGANISATION_LIMIT, "moves.no_organisation")
    letter_no = check_text(letter_no, LETTER_NO_LIMIT, "moves.no_letter")
    if on > clock.today:
        raise UserError("moves.future_date", on=on, today=clock.today)
    actor = editor.member.id if editor.member else None
    new = NewMember(name=name)
    member = await add_member(
        session, box, branch, new, clock.now, actor_id=actor, via="transfer_in"
    )
    move = await _record_done(
        session,
        member,
        MoveKind.IN,
        on,
        editor,
        clock,
        to_branch_id=member.branch_id,
        organisation=organisation,
        letter_no=letter_no,
    )
    data = {"move": move.id, "from": organisation, "letter_no": letter_no, "on": on.isoformat()}
    await trace(
        session, box, clock, editor, "member.transferred_in", member, member.branch_id, data
    )
    return move


async def _record_done(
    session: AsyncSession,
    member: Member,
    kind: MoveKind,
    on: date,
    editor: Editor,
    clock: Clock,
    **details: Any,
) -> Move:
    """A move that takes effect as it is recorded (decided by whoever records it)."""
    by = editor.member.id if editor.member else None
    move = Move(
        member_id=member.id,
        kind=kind,
        on=on,
        status=MoveStatus.DONE,
        requested_by=by,
        decided_by=by,
        created_at=clock.now,
        decided_at=clock.now,
        **details,
    )
    session.add(move)
    await session.flush()
    return move
