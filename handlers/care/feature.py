"""The care feature's command table (its commands register here from their modules: the
six-month rule's, the groups of members' and the clusters'; the later parts of handlers/care,
the annual record and feedback, register here too)."""

from handlers.core.registry import Feature

feature = Feature(
    "care",
    order=("care", "care_note", "excuse", "excuse_withdraw", "segments", "clusters"),
)
