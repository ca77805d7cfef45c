"""The dues feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature("dues", order=("dues", "dues_record", "dues_set", "dues_owed"))
