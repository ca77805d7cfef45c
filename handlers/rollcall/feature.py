"""The roll-call feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature("rollcall", order=("jielong", "jielong_close", "jielong_list"))
