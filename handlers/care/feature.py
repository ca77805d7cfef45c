"""The care feature's command table (its commands register here from their modules; the
later parts of handlers/care, the annual record and groups, register here too)."""

from handlers.core.registry import Feature

feature = Feature("care", order=("care", "care_note", "excuse", "excuse_withdraw"))
