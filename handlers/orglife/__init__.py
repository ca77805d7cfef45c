"""Organisational life on the record (组织生活): how often each kind of meeting is due, the
branch's status for the current periods (`/orglife`), and reminders before a period ends."""

from handlers.orglife import chat  # noqa: F401  (its commands register)
from handlers.orglife.feature import feature

__all__ = ["feature"]
