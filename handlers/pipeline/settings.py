"""The development pipeline's settings: how often contacts should talk with their activist,
how early the secretary hears of a statutory deadline, and when the daily reminders go out
(the thought reports' and the dues' reminders go out with them)."""

from pydantic import Field

from handlers.core.settings import ClockTime, Section


class PipelineSettings(Section):
    contact_talk_months: int = Field(default=3, ge=1, le=12)
    deadline_notice_days: int = Field(default=30, ge=1, le=180)
    pipeline_remind_at: ClockTime = "09:00"
