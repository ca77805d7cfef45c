"""The access feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature("access")
