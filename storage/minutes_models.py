"""Tables of meeting minutes (会议记录) and photos, the evidence the 三会一课 ledger is made of.
Minutes are corrected by a new version, never overwritten; their text and files are kept
encrypted (they may name people and their views)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Minutes(Base):
    """One version of a meeting's minutes; the highest version is the current one."""

    __tablename__ = "meeting_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # the text, if typed
    # A Word or PDF document handed in instead of (or beside) the text.
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_mime: Mapped[str | None] = mapped_column(String(100))
    document_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_id: Mapped[int | None] = mapped_column(Integer)  # 主持人
    recorder_id: Mapped[int | None] = mapped_column(Integer)  # 记录人
    note: Mapped[str] = mapped_column(String(200), default="")  # why a correction was made
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("meeting_id", "version"),)


class MeetingPhoto(Base):
    """A photo of a meeting (会议照片), encrypted at rest."""

    __tablename__ = "meeting_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime]
