"""The evaluation (考评): indicators from a versioned file, member and branch scorecards from
the traces, and the /report, /myreport and /inactive commands.

Importing the modules registers their commands on the one `feature`.
"""

from handlers.evaluation import chat
from handlers.evaluation.feature import feature

__all__ = ["chat", "feature"]
