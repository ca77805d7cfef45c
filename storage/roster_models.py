"""The roster over time: which branch each member belonged to and when, the moves between
branches and out of the school (组织关系转接), and the member archive (党员档案).

Shares `Base` with storage/models.py; Alembic sees this module too. `members.branch_id` stays
the branch a member belongs to now; memberships say where they belonged on any earlier day.
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
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
    # Why it began: joined (added, imported or invited), backfilled (by migration 0011),
    # transferred (within the school), transferred_in (from outside), merged (its branch was
    # merged into this one).
    reason: Mapped[str] = mapped_column(String(32))
    # Why it ended (None while open): transferred, merged, or a Departure reason.
    end_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_memberships_member_since", "member_id", "since"),
        Index("ix_memberships_branch_since", "branch_id", "since"),
    )


class Move(Base):
    """A change of organisational relationship (组织关系转接) or a leaving, as recorded:
    within the school (from one served branch to another, pending until the receiving
    secretary confirms unless an admin made it), out of the school, in from outside, or a
    leaving for another reason (graduation, 停止党籍, 出党, death)."""

    __tablename__ = "member_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # within, out, in, leave
    from_branch_id: Mapped[int | None] = mapped_column(Integer)
    to_branch_id: Mapped[int | None] = mapped_column(Integer)
    # The organisation outside the school it goes to (out) or comes from (in).
    organisation: Mapped[str | None] = mapped_column(String(200))
    letter_no: Mapped[str | None] = mapped_column(String(64))  # 介绍信编号
    reason: Mapped[str] = mapped_column(String(16), default="")  # a leaving's reason
    basis: Mapped[str] = mapped_column(String(300), default="")  # 依据: decision, document
    on: Mapped[date] = mapped_column(Date)  # the day it takes effect
    status: Mapped[str] = mapped_column(String(12))  # pending, done, refused, cancelled
    batch: Mapped[str | None] = mapped_column(String(32))  # a graduation batch's id
    requested_by: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_member_moves_to_status", "to_branch_id", "status"),)


class ArchiveEntry(Base):
    """One line of a member's archive (党员档案) beyond the pipeline's file: a stretch of
    education or work, an award or a punishment (奖惩). What it says is personal data, kept
    encrypted (`body_enc`: JSON); its kind and dates stay plain for ordering. A wrong entry
    is withdrawn (removed_at), never deleted."""

    __tablename__ = "archive_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # education, work, award, punishment
    since: Mapped[date | None] = mapped_column(Date)  # an award's or punishment's date
    until: Mapped[date | None] = mapped_column(Date)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class ArchiveFile(Base):
    """A scan kept with a member's archive (a certificate, a decision), encrypted at rest."""

    __tablename__ = "archive_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("archive_entries.id"))
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
