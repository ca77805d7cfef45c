"""Tables of the member development pipeline (发展党员全过程纪实), thought reports, dues and
volunteer hours. They share `Base` with storage/models.py; Alembic sees both modules.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Member


class StageChange(Base):
    """One recorded step of a person's file: entering a stage (or back-filling the date a
    stage was entered, from the paper file), extending probation, or cancelling it."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # advance: moved on to `stage`; dated: the date `stage` was entered, recorded later;
    # extend: probation extended by `months`; cancel: probationary membership cancelled.
    kind: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(16))
    on: Mapped[date] = mapped_column(Date)
    # The decision behind it, in words (e.g. "支部大会讨论通过"), and the meeting it names.
    decision: Mapped[str] = mapped_column(String(200), default="")
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    approved_on: Mapped[date | None] = mapped_column(Date)  # 上级党委审批
    months: Mapped[int | None] = mapped_column(Integer)  # length of an extension
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class DevelopmentEvent(Base):
    """A dated step that is not a stage: a talk (谈话), the political review (政审), a
    training course (集中培训, with its class hours)."""

    __tablename__ = "development_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float | None]
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class Contact(Base):
    """A full member assigned as a person's 培养联系人; `ended_on` set when replaced."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    assigned_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    assigned_by: Mapped[int | None] = mapped_column(Integer)

    contact: Mapped[Member] = relationship(foreign_keys=[contact_id], lazy="joined")


class ThoughtReport(Base):
    """A 思想汇报. The text and any document reference are encrypted with SECRET_KEY."""

    __tablename__ = "thought_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    stage: Mapped[str] = mapped_column(String(16))  # the author's stage when handed in
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # {"platform", "kind", "file_id", "file_name"} as encrypted JSON.
    attachment_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    submitted_at: Mapped[datetime] = mapped_column(index=True)

    member: Mapped[Member] = relationship(lazy="joined")


class ThoughtReview(Base):
    """A reader (a contact person or the secretary) marked a report read, with a comment."""

    __tablename__ = "thought_reviews"

    report_id: Mapped[int] = mapped_column(ForeignKey("thought_reports.id"), primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    read_at: Mapped[datetime]
    comment_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    reader: Mapped[Member] = relationship(lazy="joined")


class DuesRate(Base):
    """A member's monthly dues as set by the secretary (in fen); none: the default."""

    __tablename__ = "dues_rates"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(Integer)
    set_at: Mapped[datetime]


class DuesPayment(Base):
    """党费 paid for one month (in fen), recorded by the secretary or from a statement."""

    __tablename__ = "dues_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month paid for
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # chat, import
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("member_id", "month"),)


class VolunteerRecord(Base):
    """Volunteer service (志愿服务) a member reported; approved hours count."""

    __tablename__ = "volunteer_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)  # whole minutes: sums stay exact
    activity: Mapped[str] = mapped_column(String(100))
    # A photo sent with it: {"platform", "kind", "file_id", "file_name"}.
    photo: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected
    created_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(lazy="joined")

    __table_args__ = (Index("ix_volunteer_records_branch_status", "branch_id", "status"),)
