"""党务公开: what a branch makes public to its members for a year (meetings held, dues collected
in total, its people by stage, the feedback box's counts, the decisions of 支部党员大会 its
secretary published).

Importing chat registers its commands on the one `feature`.
"""

from handlers.disclosure import chat
from handlers.disclosure.feature import feature

__all__ = ["chat", "feature"]
