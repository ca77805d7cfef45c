"""The study feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature(
    "study",
    order=("quiz", "study", "search", "mistakes", "rank", "materials", "material_add"),
)
