"""Who may see and change a member's archive: the one place these rules live.

A member sees their own; committee members see their branch's entries but not the scans;
a secretary sees and keeps their branch's; an admin anyone's. Everyone else is told the
record does not exist (traced as a refusal), so numbers cannot be probed.
"""

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Denied
from storage import archive
from storage.enums import Role
from storage.models import Member
from storage.roster_models import ArchiveEntry, ArchiveFile


def _same_branch(caller: Member, member: Member) -> bool:
    return caller.branch_id is not None and caller.branch_id == member.branch_id


def may_see(caller: Member, member: Member) -> bool:
    """The entries: oneself, the branch's committee and secretary, an admin."""
    if caller.id == member.id or caller.role == Role.ADMIN:
        return True
    return caller.role in (Role.SECRETARY, Role.COMMITTEE) and _same_branch(caller, member)


def may_fetch(caller: Member, member: Member) -> bool:
    """The scans (they may show an ID number): oneself, the branch's secretary, an admin."""
    if caller.id == member.id or caller.role == Role.ADMIN:
        return True
    return caller.role == Role.SECRETARY and _same_branch(caller, member)


def may_change(caller: Member, member: Member) -> bool:
    """The branch's secretary (their own archive too) and an admin."""
    return caller.role == Role.ADMIN or (
        caller.role == Role.SECRETARY and _same_branch(caller, member)
    )


async def archive_member(ctx: Context, text: str, *, change: bool = False) -> Member:
    """The member whose archive `text` names (empty: the caller's own), if the caller may
    see it (`change`: change it); otherwise the answer an unknown name gets, traced."""
    caller = ctx.require_caller()
    if not text:
        return caller
    member = await find_member(ctx, text)  # another branch's: Denied, traced by the router
    allowed = may_change(caller, member) if change else may_see(caller, member)
    if not allowed:
        raise Denied("lookup.unknown_member", target=f"member:#{member.id}", exists=True, name=text)
    return member


async def changeable_entry(ctx: Context, entry_id: int) -> ArchiveEntry:
    """An entry still in force that the caller may withdraw."""
    found = await archive.entry(ctx.session, entry_id)
    member = await ctx.session.get(Member, found.member_id) if found else None
    usable = found is not None and found.removed_at is None
    if not usable or member is None or not may_change(ctx.require_caller(), member):
        target = archive.entry_ref(entry_id)
        raise Denied("archive.no_entry", target=target, exists=found is not None, id=entry_id)
    return found  # type: ignore[return-value]


async def fetchable_file(ctx: Context, file_id: int, *, change: bool = False) -> ArchiveFile:
    """A kept file the caller may open (`change`: withdraw)."""
    found = await archive.file(ctx.session, file_id)
    member = await ctx.session.get(Member, found.member_id) if found else None
    caller = ctx.require_caller()
    usable = found is not None and found.removed_at is None and member is not None
    rule = may_change if change else may_fetch
    if not usable or not rule(caller, member):  # type: ignore[arg-type]
        target = archive.file_ref(file_id)
        raise Denied("archive.no_file", target=target, exists=found is not None, id=file_id)
    return found  # type: ignore[return-value]
