"""The thought reports' settings (BRANCHBOT_THOUGHT_REPORT_MONTHS)."""

from pydantic import Field

from handlers.core.settings import Section


class ThoughtSettings(Section):
    # How often an applicant's or activist's thought report is due (months).
    thought_report_months: int = Field(default=3, ge=1, le=12)
