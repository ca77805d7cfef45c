"""The evaluation feature's command table (its commands register here from their modules)."""

from handlers.registry import Feature

feature = Feature("evaluation", order=("report", "myreport", "inactive"))
