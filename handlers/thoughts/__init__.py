"""Thought reports (思想汇报): handed in, kept encrypted, read by contacts and the secretary.

Importing the modules registers their commands on the one `feature`; the scheduler's daily
job calls reminders.remind_due, the evidence table storage.thoughts.report_stats.
"""

from handlers.thoughts import listing, reading, submit
from handlers.thoughts.feature import feature

__all__ = ["feature", "listing", "reading", "submit"]
