"""The feedback box's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature(
    "feedback",
    order=("feedback", "feedback_status", "feedback_list", "feedback_answer", "feedback_close"),
)
