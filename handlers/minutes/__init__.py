"""Meeting minutes (会议记录): handed in by chat with the topics, the host and photos, corrected
by new versions, reminded when missing; the evidence of the 三会一课 ledger."""

from handlers.minutes import chat  # noqa: F401  (its commands register)
from handlers.minutes.feature import feature

__all__ = ["feature"]
