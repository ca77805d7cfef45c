"""Surveys (问卷调查): made by a secretary or imported, answered question by question, anonymous
when asked, and read with jieba to suggest study topics.

Importing the modules registers their commands on the one `feature`.
"""

from handlers.surveys import (
    answer,
    create,
    deadlines,
    listing,
    results,
)
from handlers.surveys.feature import feature

__all__ = ["answer", "create", "deadlines", "feature", "listing", "results"]
