"""Tables of surveys (问卷). Anonymous answers are kept so that nobody with the database can
tie them to a member: see docs/surveys.md and storage/surveys.py."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Survey(Base):
    """A survey: its questions, audience, deadline and whether it is anonymous."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a school-wide survey (an admin's), for every branch.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # [{"kind": "single"|"multi"|"scale"|"text", "text": "...", "options": ["...", ...]}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # {"kind": "branch"} | {"kind": "stage", "stage": "activist"} | {"kind": "interns"}
    audience: Mapped[dict[str, Any]]
    anonymous: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class SurveyParticipant(Base):
    """That a member took part (finished), to stop a second answer and to remind the others.
    Deliberately no time and no answers: nothing here can be matched to a ballot."""

    __tablename__ = "survey_participants"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)


class SurveyProgress(Base):
    """A member's answers so far, encrypted, while they are still answering; deleted when
    they finish (the answers then go into the ballot box)."""

    __tablename__ = "survey_progress"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The answers so far and the options ticked on a multiple-choice question, as one
    # Fernet token: nothing here is readable without the key.
    answers_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class SurveyBallotBox(Base):
    """All of a survey's finished answers in one encrypted, shuffled list (one row per
    survey, so neither row order nor ids nor times say whose ballot is whose)."""

    __tablename__ = "survey_ballot_boxes"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    ballots_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    count: Mapped[int] = mapped_column(Integer, default=0)
