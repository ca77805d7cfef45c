"""The development pipeline (发展党员全过程纪实): stages, dated steps, contacts, the rule
checklist, reminders and the side-by-side evidence for decisions.

Importing the modules registers their commands on the one `feature`.
"""

from handlers.pipeline import candidates, events, stages, view
from handlers.pipeline.feature import feature

__all__ = ["candidates", "events", "feature", "stages", "view"]
