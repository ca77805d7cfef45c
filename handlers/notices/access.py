"""Whose notices a caller may see: a secretary their own branch's, an admin everyone's."""

from handlers.context import Context
from storage.models import Notice


def notice_scope(ctx: Context) -> int | None:
    """The branch whose notices the caller may follow up; None means all (admins)."""
    return ctx.branch_scope()


def may_see(ctx: Context, notice: Notice) -> bool:
    """A notice to several branches belongs to the admins (its branch_id is None)."""
    scope = notice_scope(ctx)
    return scope is None or notice.branch_id == scope
