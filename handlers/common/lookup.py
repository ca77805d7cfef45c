"""Finding the member a staff member names in a command: by name, by staff number (学号) or
by #id, within the caller's branch (an admin: in every branch). Shared by every feature
that acts on a named person (dues, the development pipeline); and the branch a staff member
names (an admin: any; anyone else: their own)."""

from collections.abc import Sequence

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Series, UserError
from handlers.core.parsing import parse_id
from storage import people
from storage.enums import Role
from storage.models import Branch, Member


def who(member: Member) -> Msg:
    """A member told apart from namesakes: their staff number if any, and their #id."""
    if member.staff_no:
        return Msg("lookup.who_staff", name=member.name, staff_no=member.staff_no, id=member.id)
    return Msg("lookup.who", name=member.name, id=member.id)


def ambiguous(name: str, found: Sequence[Member]) -> UserError:
    """Namesakes: list them, and show how to write one of them by number instead."""
    first = found[0]
    return UserError(
        "lookup.ambiguous",
        name=name,
        count=len(found),
        who=Series(who(m) for m in found),
        instead=first.staff_no or f"#{first.id}",
    )


async def find_member(ctx: Context, text: str, *, left_too: bool = False) -> Member:
    """The one member `text` (a name, a staff number or #id) names in the caller's scope;
    else a UserError saying why. `left_too`: members who left the roster count too (their
    record stays readable by their last branch)."""
    scope = ctx.branch_scope()
    member_id = parse_id(text) if text.startswith("#") else None
    if member_id is not None:
        member = await ctx.session.get(Member, member_id)
        hidden = member is not None and not member.active and not left_too
        if member is None or hidden or scope not in (None, member.branch_id):
            exists = member is not None
            raise Denied(
                "lookup.unknown_member", target=f"member:#{member_id}", exists=exists, name=text
            )
        return member
    found = await people.members_matching(ctx.session, text, scope, left_too=left_too)
    by_number = [m for m in found if m.staff_no == text]
    if len(by_number) == 1:
        return by_number[0]
    if not found:
        raise await _unknown(ctx, text, scope)
    if len(found) > 1:
        raise ambiguous(text, found)
    return found[0]


async def _unknown(ctx: Context, text: str, scope: int | None) -> UserError:
    """Nobody of that name or number in the caller's scope: a plain answer for a typo, a
    traced refusal (with the same answer) when it names someone of another branch."""
    elsewhere = [] if scope is None else await people.members_matching(ctx.session, text, None)
    if not elsewhere:
        return UserError("lookup.unknown_member", name=text)
    target = "member:" + ",".join(f"#{m.id}" for m in elsewhere)
    return Denied("lookup.unknown_member", target=target, exists=True, name=text)


async def branch_asked(ctx: Context, text: str, *, unknown: str, usage: str) -> Branch:
    """The branch `text` names (its name or #id; nothing: the caller's own). An admin may
    name any; anyone else only their own, another (or none of that name) is refused with
    the `unknown` answer and traced by the router as Denied."""
    caller = ctx.require_caller()
    if not text:
        if caller.branch is None:  # an admin of no branch names one
            raise UserError("usage", usage=Msg(usage))
        return caller.branch
    branch_id = parse_id(text) if text.startswith("#") else None
    if branch_id is not None:
        branch = await ctx.session.get(Branch, branch_id)
    else:
        branch = await people.branch_by_name(ctx.session, text)
    if branch is None or (caller.role != Role.ADMIN and branch.id != caller.branch_id):
        target = f"branch:{branch.id if branch else text}"
        raise Denied(unknown, target=target, exists=branch is not None, name=text)
    return branch
