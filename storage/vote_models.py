"""Tables of votes (表决) taken at a branch's meetings. How a member voted is never linkable to
them: the electors' table says who may vote and who did, the box holds the ballots alone,
encrypted and shuffled (as anonymous surveys' do: docs/ballots.md)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Vote(Base):
    """A vote at a meeting: on one person's step (admission as probationary member,
    conversion to full member), or an election of the committee (换届选举: candidates and
    seats, no subject); open until the secretary closes it."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # admission, conversion, election
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    # An election's seats and candidates (member ids); None for a vote on a person.
    seats: Mapped[int | None] = mapped_column(Integer)
    candidates: Mapped[list[int] | None] = mapped_column(JSON)
    # 应到会有表决权的正式党员: the branch's full members on the meeting's day.
    entitled: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The tally once closed: a person's {"for", "against", "abstain", "cast", "electors",
    # "entitled", "passed"}; an election's {"votes": {id: n}, "cast", "electors", "entitled",
    # "valid", "elected", "tied"}.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # An election's result taken over into the members' roles (by the secretary).
    confirmed_at: Mapped[datetime | None]


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


class SelfEvaluation(Base):
    """A member's self-evaluation (个人自评) for a 民主评议, encrypted; replaced until the
    appraisal closes."""

    __tablename__ = "self_evaluations"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    written_at: Mapped[datetime]


class AppraisalGrade(Base):
    """The committee's grade for a member in a 民主评议 (组织评定), with its reason."""

    __tablename__ = "appraisal_grades"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    grade: Mapped[str] = mapped_column(String(16))  # excellent, qualified, basic, unqualified
    reason: Mapped[str] = mapped_column(String(300))
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime]
