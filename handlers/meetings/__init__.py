"""Meetings (三会一课), check-in (签到), leave (请假) and the jobs that remind and finalise.

Importing the modules registers their commands on the one `feature`.
"""

from handlers.meetings import checkin, group_checkin, leave, repeat, schedule
from handlers.meetings.feature import feature

__all__ = ["checkin", "feature", "group_checkin", "leave", "repeat", "schedule"]
