"""Whose notices a caller may see: a secretary their own branch's, an admin everyone's."""

from handlers.core.context import Context
from storage.models import Notice


def may_see(ctx: Context, notice: Notice) -> bool:
    """A notice to several branches belongs to the admins (its branch_id is None)."""
    scope = ctx.branch_scope()
    return scope is None or notice.branch_id == scope
