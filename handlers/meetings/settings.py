"""The meetings feature's settings: reminders before each meeting, check-in timing and place,
and when a member counts as inactive."""

from datetime import timedelta

from pydantic import Field, field_validator

from handlers.core.settings import Section


class MeetingSettings(Section):
    # Reminders before each meeting, in minutes.
    meeting_reminder_minutes: list[float] = Field(default_factory=lambda: [1440.0, 60.0])
    # Check-in opens automatically this long before the start.
    checkin_opens_minutes_before: float = Field(default=15.0, ge=0, le=24 * 60)
    # A check-in this long after the start counts as late.
    checkin_grace_minutes: float = Field(default=10.0, ge=0, le=24 * 60)
    # A shared location this close to the venue checks the member in.
    checkin_radius_meters: int = Field(default=300, ge=10, le=100_000)

    @field_validator("meeting_reminder_minutes")
    @classmethod
    def _reminders(cls, value: list[float]) -> list[float]:
        if any(m <= 0 or m > 30 * 24 * 60 for m in value):
            raise ValueError("each reminder is minutes before the meeting, e.g. [1440, 60]")
        return sorted(set(value), reverse=True)

    @property
    def reminders(self) -> tuple[float, ...]:
        """Minutes before the start, farthest first."""
        return tuple(self.meeting_reminder_minutes)

    @property
    def checkin_opens_before(self) -> timedelta:
        return timedelta(minutes=self.checkin_opens_minutes_before)

    @property
    def checkin_grace(self) -> timedelta:
        return timedelta(minutes=self.checkin_grace_minutes)
