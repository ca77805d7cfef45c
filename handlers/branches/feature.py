"""The branches feature's registration point (its commands register on it)."""

from handlers.core.registry import Feature

feature = Feature(
    "branches",
    order=(
        "branches",
        "branch_rename",
        "branch_merge",
        "branch_split",
        "branch_archive",
    ),
)
