"""Tables of the feedback box (意见箱, handlers/feedback) and of the decisions a branch makes
public (党务公开, handlers/disclosure). An anonymous item is kept so that nobody with the
database can tie it to its sender: see docs/feedback.md and storage/feedback.py.

Shares `Base` with storage/models.py; Alembic sees this module through storage/tables.py.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class FeedbackItem(Base):
    """A suggestion or concern sent to the branch committee. A named one is stored as it is
    sent; an anonymous one first waits, sealed, in its branch's box (FeedbackBox) and gets its
    row only when the box is opened, after the day it was sent is over. Neither has a time
    of its own, only the day: an anonymous item's time would say whose it is."""

    __tablename__ = "feedback_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # The receipt code's digest (storage/feedback.py receipt_digest): how a sender, named
    # or not, finds the item again.
    receipt: Mapped[str] = mapped_column(String(64), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    # How many times the secretaries were reminded of it, unanswered (14 days, then weekly).
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    closed_by: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None]


class FeedbackAnswer(Base):
    """An answer of the committee to an item; an item may get several (a follow-up)."""

    __tablename__ = "feedback_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id"), index=True)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    answered_by: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime]


class FeedbackBox(Base):
    """A branch's anonymous items not yet opened, as one encrypted, shuffled list (one row per
    branch, storage/ballot_box.py): no id, time or order says who dropped which, or when."""

    __tablename__ = "feedback_boxes"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    items_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class PublicDecision(Base):
    """A decision of a 支部党员大会 that the secretary made public (党务公开), in their words;
    a wrong one is withdrawn (withdrawn_at), never deleted."""

    __tablename__ = "public_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    published_by: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime]
    withdrawn_by: Mapped[int | None] = mapped_column(Integer)
    withdrawn_at: Mapped[datetime | None]
