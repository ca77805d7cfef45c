"""Moves on the roster (组织关系转接 and leaving): transfers within the school, out of it and
in from outside, leaving for another reason, and a year's graduates in one batch."""

from handlers.moves import chat, graduation, history  # noqa: F401  (they register)
from handlers.moves.feature import feature

__all__ = ["feature"]
