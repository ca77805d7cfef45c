"""Notices (通知) with acknowledgement (回执): /broadcast, the 收到 button, status, reminders.

Importing the modules registers their commands on the one `feature`.
"""

from handlers.notices import acks, broadcast, group_post, status
from handlers.notices.feature import feature

__all__ = ["acks", "broadcast", "feature", "group_post", "status"]
