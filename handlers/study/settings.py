"""The study feature's settings: questions per daily quiz, and when the quiz reminder and the
material push go out."""

from pydantic import Field

from handlers.core.settings import ClockTime, Section


class StudySettings(Section):
    quiz_size: int = Field(default=5, ge=1, le=30)
    quiz_remind_at: ClockTime = "20:00"
    material_push_at: ClockTime = "08:00"
