"""The development pipeline (发展党员全过程纪实): stages, dated steps, contacts, the rule
checklist, reminders and the side-by-side evidence for decisions."""

from handlers.pipeline.feature import feature

__all__ = ["feature"]
