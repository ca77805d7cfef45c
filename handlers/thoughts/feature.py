"""The thoughts feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature("thoughts", order=("thought", "thoughts", "thought_show", "thought_read"))
