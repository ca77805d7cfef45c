"""The feedback box (意见箱): any member sends a suggestion or a concern to the branch
committee, named or anonymous, and follows it with a receipt code; the committee lists,
answers and closes the items, and the secretaries are reminded of those left unanswered.

Importing the modules registers their commands on the one `feature`; the scheduler's daily
job calls daily.open_boxes_daily and daily.remind_unanswered.
"""

from handlers.feedback import committee, send, status
from handlers.feedback.feature import feature

__all__ = ["committee", "feature", "send", "status"]
