"""The roster over time: which branch each member belonged to, from when until when.

Shares `Base` with storage/models.py; Alembic sees this module too. `members.branch_id` stays
the branch a member belongs to now; these rows say where they belonged on any earlier day.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Membership(Base):
    """One stretch of a member's belonging to a branch; `until` None is the current one."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # Instants (UTC), not dates: a day is a day in the school's time zone, which storage
    # does not know; a transfer "on" a date starts at that day's first instant there.
    since: Mapped[datetime]
    until: Mapped[datetime | None]
    # Why it began: joined (added, imported or invited), backfilled (by migration 0011);
    # the transfer slices add their own reasons.
    reason: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_memberships_member_since", "member_id", "since"),
        Index("ix_memberships_branch_since", "branch_id", "since"),
    )
