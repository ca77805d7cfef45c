"""The annual record's command table (党员日常管理记实: /record registers here from chat.py)."""

from handlers.core.registry import Feature

feature = Feature("record_year", order=("record",))
