"""Thought reports (思想汇报): handed in, kept encrypted, read by contacts and the secretary."""

from handlers.thoughts.feature import feature

__all__ = ["feature"]
