"""The command table of 党务公开 (its commands register here from handlers/disclosure/chat.py)."""

from handlers.core.registry import Feature

feature = Feature("disclosure", order=("open", "open_decision", "open_decision_remove"))
