"""Tables of votes (表决) taken at a branch's meetings. How a member voted is never linkable to
them: the electors' table says who may vote and who did, the box holds the ballots alone,
encrypted and shuffled (as anonymous surveys' do: docs/ballots.md)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Vote(Base):
    """A vote at a meeting on one person's step (admission as probationary member,
    conversion to full member), open until the secretary closes it."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # admission, conversion
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # 应到会有表决权的正式党员: the branch's full members on the meeting's day.
    entitled: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The tally once closed: {"for", "against", "abstain", "cast", "electors", "passed"}.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class VoteElector(Base):
    """A member who may vote (present with the right to vote when it opened), and whether they
    have; no time and no choice, so nothing here can be matched to a ballot."""

    __tablename__ = "vote_electors"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    voted: Mapped[bool] = mapped_column(Boolean, default=False)


class VoteBox(Base):
    """All of a vote's ballots in one encrypted, shuffled list (one row per vote)."""

    __tablename__ = "vote_boxes"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    ballots_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    count: Mapped[int] = mapped_column(Integer, default=0)
