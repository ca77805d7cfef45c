"""After-commit signals: what a committed transaction asks of the rest of the process.

A change raises a signal on its session (`AfterCommit.X.raise_on(session)`); once the session
has committed, whoever ran it reads `AfterCommit.raised(session.info)` and acts: the router
calls the hooks registered with `Router.on_commit`, which `bot.serve` wires to the outbox
sender and the scheduler. Nothing is acted on after a rollback, as the signal travels with
the session that committed.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

# The key in a session's `info` under which its signals are kept (one set, not loose flags).
_KEY = "after_commit"


class AfterCommit(Enum):
    # Messages were queued in the outbox: the sender sends them now, not at its next poll.
    WAKE_SENDER = "wake_sender"
    # A meeting was created, moved or cancelled: the scheduler re-plans its jobs now.
    MEETINGS_CHANGED = "meetings_changed"
    # Who belongs in a branch may have changed (a member joined, left or moved, or bound a
    # chat account), or a branch got a WeCom app chat: the app chats are brought in step now.
    ROSTER_CHANGED = "roster_changed"

    def raise_on(self, session: AsyncSession) -> None:
        session.info.setdefault(_KEY, set()).add(self)

    @staticmethod
    def raised(info: Mapping[str, Any]) -> frozenset["AfterCommit"]:
        """The signals a session (its `info`) raised."""
        return frozenset(info.get(_KEY, ()))
