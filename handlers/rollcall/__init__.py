"""Roll-calls (接龙) in a bound branch group: `/jielong 主题` posts a list that members join
with a button or by replying 接龙 / +1, kept up to date in place, with an optional deadline,
limit and meeting or activity it pre-registers for; closed early, listed and exported by the
branch's staff. Importing the modules registers their commands on the one `feature`.
"""

from handlers.rollcall import commands, joining, listing, post
from handlers.rollcall.feature import feature

__all__ = ["commands", "feature", "joining", "listing", "post"]
