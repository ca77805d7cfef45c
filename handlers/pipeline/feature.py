"""The pipeline feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature(
    "pipeline",
    order=("pipeline", "stage", "contact", "talk", "review", "training", "candidates"),
)
