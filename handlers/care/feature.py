"""The care feature's command table (its commands register here from their modules; the
later parts of handlers/care, groups and feedback, register here too)."""

from handlers.core.registry import Feature

feature = Feature("care", order=("care", "care_note", "excuse", "excuse_withdraw"))
