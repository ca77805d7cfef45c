"""The notices feature's settings (BRANCHBOT_NOTICE_SUMMARY_HOURS)."""

from datetime import timedelta

from pydantic import Field

from handlers.core.settings import Section


class NoticeSettings(Section):
    # The author of a notice gets its acknowledgement summary this long after; 0: never.
    notice_summary_hours: float = Field(default=24.0, ge=0, le=24 * 30)

    @property
    def summary_after(self) -> timedelta | None:
        return timedelta(hours=self.notice_summary_hours) or None
