from handlers.core.registry import Feature

feature = Feature(
    "groups",
    order=(
        "group_bind",
        "group_create",
        "group_robot",
        "group_unbind",
        "group_info",
        "groups",
    ),
)
