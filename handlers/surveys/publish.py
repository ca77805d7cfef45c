"""Publishing a survey: store it, trace survey.created and invite its audience through the
outbox. The guided /survey_new and the file import both end here."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.notify import queue_to_members
from handlers.core.tracer import SessionTracer
from handlers.surveys.show import invitation
from handlers.surveys.spec import SurveySpec
from storage import surveys
from storage.crypto import SecretBox
from storage.survey_models import Survey
from storage.surveys import survey_ref


@dataclass(frozen=True)
class Published:
    survey: Survey
    audience: int  # members the survey is for
    invited: int  # of them, those the invitation can reach (the creator is not invited)


async def publish(
    session: AsyncSession,
    box: SecretBox,
    spec: SurveySpec,
    *,
    branch_id: int | None,
    actor_id: int | None,
    now: datetime,
    today: date,
    via: str,
) -> Published:
    """Store the survey of a branch (None: school-wide) and invite everyone it is for."""
    survey = Survey(
        branch_id=branch_id,
        title=spec.title,
        questions=[q.to_json() for q in spec.questions],
        audience=spec.audience.to_json(),
        anonymous=spec.anonymous,
        deadline=spec.deadline,
        created_by=actor_id,
        created_at=now,
        closed_at=None,
        reminded_at=None,
    )
    session.add(survey)
    await session.flush()
    ref = survey_ref(survey.id)
    await SessionTracer(session, box, now, actor_id).trace(
        "survey.created",
        branch_id=branch_id,
        ref=ref,
        data=_created(spec, via),
    )
    members = await surveys.audience_ids(session, survey, today)
    invited = await queue_to_members(
        session,
        [m for m in members if m != actor_id],
        invitation(survey),
        key=f"{ref}:invite",
        kind="survey.invite",
        now=now,
        ref=ref,
    )
    return Published(survey, len(members), len(invited))


def _created(spec: SurveySpec, via: str) -> dict[str, Any]:
    """What survey.created records: the survey's shape, never anyone's answers."""
    return {
        "title": spec.title,
        "anonymous": spec.anonymous,
        "audience": spec.audience.to_json(),
        "questions": len(spec.questions),
        "deadline": spec.deadline.isoformat(),
        "via": via,
    }
