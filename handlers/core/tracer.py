"""The one way handler code writes a trace: a Tracer.

A handler answering an update has its Context, which is a Tracer (the caller is the actor). A
domain function that the scheduler, the command line or the web page also call has no Context:
it takes a Tracer, or builds a SessionTracer from the session it was given. Either way handler
code never calls storage.traces.append itself (tests/core/test_trace_door.py holds that); the
router's refusals after a rollback and storage itself do, being below this door.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage import traces
from storage.crypto import SecretBox
from storage.models import Trace
from storage.traces import Entry

__all__ = ["OWN_BRANCH", "Entry", "SessionTracer", "Tracer", "or_own"]


class _Own(Enum):
    BRANCH = "own branch"


# A trace's branch when none is given: the actor's. None is a real value: no branch (a
# school-wide meeting or survey), which the actor's branch must not stand in for.
OWN_BRANCH = _Own.BRANCH
BranchArg = int | None | Literal[_Own.BRANCH]


def or_own(branch_id: int | None) -> BranchArg:
    """The given branch, or the actor's where there is none: for the records whose trace has
    always named the actor's branch when the record had none (kept so traces read the same)."""
    return OWN_BRANCH if branch_id is None else branch_id


class Tracer(Protocol):
    """Writes traces in the caller's transaction, at its clock, for its actor."""

    async def trace(
        self,
        kind: str,
        *,
        member_id: int | None = None,
        branch_id: BranchArg = OWN_BRANCH,
        ref: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Trace: ...

    async def trace_many(self, entries: Sequence[Entry]) -> int:
        """Many traces at one instant, each naming its own actor and branch (a daily push)."""
        ...


async def write(
    session: AsyncSession,
    box: SecretBox,
    now: datetime,
    kind: str,
    *,
    actor: tuple[int | None, int | None],
    member_id: int | None,
    branch_id: BranchArg,
    ref: str | None,
    data: dict[str, Any] | None,
) -> Trace:
    """The one place a Tracer reaches storage: `actor` is (actor id, the actor's branch)."""
    actor_id, actor_branch = actor
    return await traces.append(
        session,
        box,
        kind=kind,
        at=now,
        branch_id=actor_branch if branch_id is OWN_BRANCH else branch_id,
        member_id=member_id,
        actor_id=actor_id,
        ref=ref,
        data=data,
    )


@dataclass(frozen=True)
class SessionTracer:
    """A Tracer for code without a Context. The actor is given by id (None: the bot itself, a
    job); `actor_branch` is what OWN_BRANCH stands for, None unless given."""

    session: AsyncSession
    box: SecretBox
    now: datetime
    actor_id: int | None = None
    actor_branch: int | None = None

    async def trace(
        self,
        kind: str,
        *,
        member_id: int | None = None,
        branch_id: BranchArg = OWN_BRANCH,
        ref: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Trace:
        return await write(
            self.session,
            self.box,
            self.now,
            kind,
            actor=(self.actor_id, self.actor_branch),
            member_id=member_id,
            branch_id=branch_id,
            ref=ref,
            data=data,
        )

    async def trace_many(self, entries: Sequence[Entry]) -> int:
        return await traces.append_many(self.session, self.box, entries, self.now)
