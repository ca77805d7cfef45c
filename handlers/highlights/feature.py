"""The weekly highlights' command table (its command registers here)."""

from handlers.core.registry import Feature

feature = Feature("highlights")
