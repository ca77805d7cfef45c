from handlers.core.registry import Feature

feature = Feature("minutes", order=("minutes", "minutes_show", "recorder"))
