"""The week's highlights in a branch group (optional, per group): `/group_highlights 开|关`
turns them on or off, and every Monday morning the past week's quiz leaderboard (top 5) and
the branch's meeting attendance and notice acknowledgement rates go to each group that asked.
Nobody is named for what they missed: the rates are the branch's, the names the leaders'.
"""

from handlers.highlights import switch, weekly
from handlers.highlights.feature import feature

__all__ = ["feature", "switch", "weekly"]
