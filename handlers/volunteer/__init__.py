"""Volunteer service (志愿服务): members report hours, the committee approves them."""

from handlers.volunteer import report, review
from handlers.volunteer.feature import feature

__all__ = ["feature", "report", "review"]
