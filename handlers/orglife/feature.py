from handlers.core.registry import Feature

feature = Feature("orglife", order=("orglife",))
