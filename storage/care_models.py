"""Tables of care for each member (党员关怀, handlers/care): periods a member is excused from
organisational life, the secretary's notes on a member, and what the bot told whom.

Shares `Base` with storage/models.py; Alembic sees this module through storage/tables.py.
What a note or an excusal says is personal (an illness, a family matter): kept encrypted.
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class CareExcusal(Base):
    """A period the secretary recorded a member as excused from meetings (sick leave or
    another proper reason): a meeting on a day inside it does not count against them. A
    wrong one is withdrawn (withdrawn_at), never deleted."""

    __tablename__ = "care_excusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # sick, other (handlers/care/data/rules.toml)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)  # inclusive
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    withdrawn_by: Mapped[int | None] = mapped_column(Integer)
    withdrawn_at: Mapped[datetime | None]


class CareNote(Base):
    """What the secretary recorded about a member's care: a reason they were away, a talk
    (谈话) held, or the branch's conclusion. Only such a note is an outcome: the bot never
    changes anyone's standing by itself."""

    __tablename__ = "care_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reason, talk, conclusion
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class CareNotice(Base):
    """That the bot told someone of a member's count reaching a threshold: the secretaries
    (audience secretary) or the member (audience member). Once per run of months (the run's
    first month, `run_since`), measure and threshold, however often the daily job runs."""

    __tablename__ = "care_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    measure: Mapped[str] = mapped_column(String(16))  # meetings, dues
    audience: Mapped[str] = mapped_column(String(16))  # secretary, member
    run_since: Mapped[date] = mapped_column(Date)
    threshold: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)  # the count when told
    branch_id: Mapped[int | None] = mapped_column(Integer)  # the member's branch then
    told_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("member_id", "measure", "audience", "run_since", "threshold"),
    )
