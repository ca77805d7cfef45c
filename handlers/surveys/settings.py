"""The surveys' settings (BRANCHBOT_SURVEY_MIN_ANSWERS)."""

from pydantic import Field

from handlers.core.settings import Section


class SurveySettings(Section):
    # An anonymous survey's results per question need at least this many answers.
    survey_min_answers: int = Field(default=5, ge=1, le=1000)
