"""Tables that let several service processes share one database safely: which process leads
a role (leases), which of a meeting's scheduled jobs have run (job runs), and the platforms'
sending budgets every process draws on (rate slots and rate groups)."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Lease(Base):
    """Who leads a role (the outbox sender, the scheduler) and until when (storage/leader.py).

    Used on PostgreSQL only: SQLite is one process. The times are the database server's
    (timestamptz), so the processes' own clocks never have to agree."""

    __tablename__ = "leases"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))  # host:pid:random, for operators to read
    # Raised at every takeover: a fenced write names the token it was granted.
    token: Mapped[int] = mapped_column(BigInteger)
    # The holder's own database session: when it is gone, so is the holder.
    backend_pid: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobRun(Base):
    """A meeting's job (a reminder, opening check-in, finalising) as planned, and whether it
    has run: written by the scheduler's sync when it plans the job, marked done in the very
    transaction of the job's work. The durable record of due work: a job APScheduler lost
    in a crash is due here and not done, and the sweep runs it (scheduler/meeting_jobs.py)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_due", "done_at", "due_at"),)

    job_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # APScheduler's id
    planned: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # the start planned for
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # remind, open, finish
    minutes: Mapped[float | None] = mapped_column(Float)  # a reminder's lead
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class RateSlot(Base):
    """A platform's shared send slots (storage/rates.py): every message to the platform, from
    any process, leaves in a slot of its own, the slots one gap apart; `next_at` is where the
    first slot nobody has reserved begins. PostgreSQL only (SQLite is one process, which keeps
    its budget in memory); the database's clock, as for leases."""

    __tablename__ = "rate_slots"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateGroup(Base):
    """When the last messages to one group chat left (at most the group's limit of them, within
    its window), from any process: a message goes only while fewer than the limit went in the
    window. PostgreSQL only, as rate slots."""

    __tablename__ = "rate_groups"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent: Mapped[list[datetime]] = mapped_column(
        JSON().with_variant(ARRAY(DateTime(timezone=True)), "postgresql")
    )
