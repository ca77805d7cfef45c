"""The surveys feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature(
    "surveys",
    order=("surveys", "survey", "survey_new", "survey_results", "survey_close"),
)
