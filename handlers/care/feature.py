"""The care feature's command table (its commands register here from their modules: the
six-month rule's, the groups of members' and the clusters')."""

from handlers.core.registry import Feature

feature = Feature(
    "care",
    order=("care", "care_note", "excuse", "excuse_withdraw", "segments", "clusters"),
)
