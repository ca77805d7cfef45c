from handlers.core.registry import Feature

feature = Feature("groups", order=("group_bind", "group_unbind", "group_info", "groups"))
