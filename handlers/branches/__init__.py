"""Branches as they change over the years: renamed, merged into another, split by moving
members, archived when they no longer exist (never deleted)."""

from handlers.branches import chat  # noqa: F401  (it registers)
from handlers.branches.feature import feature

__all__ = ["feature"]
