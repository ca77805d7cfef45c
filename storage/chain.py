"""Checking the trace chain (留痕校验): the full walk, and the quick check before a report.

A full walk (`branchbot verify`, and the nightly job) reads every row up to the sealed head
and stops at the first edited, deleted or inserted one. Its outcome is kept in `chain_checks`,
sealed with the key: the last row it verified, when the walk began, and the first bad row.

A report cannot wait for a full walk of millions of rows, so `chain_state` checks the head's
seal and the check's seal, that the last row the walk verified is unchanged, and walks only
the rows appended since (remembering, per process, how far it got). An edit to an older row
is caught by the next full walk; the state says when that was, and the report says so too.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
from storage.models import ChainCheck, Trace, TraceHead
from storage.traces import GENESIS, HEAD_ID, TRACES, canonical, seal_payload

CHECK_ID = 1
# Core rows, in chain order: building ORM entities would cost more than hashing them.
_ROWS = select(TRACES).order_by(TRACES.c.id)


@dataclass(frozen=True)
class VerifyResult:
    checked: int  # rows known good, counting from row 1
    ok: bool
    bad_id: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS  # the hash of row `checked`


@dataclass(frozen=True)
class ChainState:
    """What the last check of the chain found: every report carries it, so figures from an
    edited record are never shown as if they were sound."""

    ok: bool
    checked_to: int  # the last row known good
    bad_id: int | None
    reason: str | None
    at: datetime
    walked_at: datetime | None = None  # the last full walk (None: this check walked it all)
    walked_to: int = 0  # the rows that walk covered; later ones were checked at `at`


async def verify(
    session: AsyncSession, box: SecretBox, batch: int = 2000, *, pause: bool = False
) -> VerifyResult:
    """Walk the chain up to its sealed head; stop at the first edited, deleted or inserted row.

    The head is read first, so rows appended by a live service meanwhile are not alarms.
    `pause`: yield to the event loop between batches (the walk inside the running service).
    """
    head = await session.get(TraceHead, HEAD_ID)
    if head is None:
        return VerifyResult(0, False, 1, "no_head")
    if not _head_sealed(head, box):
        return VerifyResult(0, False, head.last_id, "head_altered")
    first = await session.scalar(select(func.min(Trace.id)))
    if first is not None and first < 1:
        return VerifyResult(0, False, int(first), "inserted")
    result = await _walk(session, box, head.last_id, batch, pause=pause)
    if not result.ok:
        return result
    return await _ends_at_head(session, head, result)


def _head_sealed(head: TraceHead, box: SecretBox) -> bool:
    return head.last_id == 0 or box.mac_matches(
        seal_payload(head.last_id, head.last_hash), head.seal
    )


async def _ends_at_head(
    session: AsyncSession, head: TraceHead, walked: VerifyResult
) -> VerifyResult:
    """The walk reached the head it started from, and no row lies beyond the current head."""
    last_id = head.last_id
    if walked.checked != last_id or (last_id and walked.last_hash != head.last_hash):
        return VerifyResult(
            walked.checked, False, walked.checked + 1, "truncated", walked.last_hash
        )
    beyond = await session.scalar(select(func.max(Trace.id)))
    if beyond is not None and beyond > last_id:
        session.expire(head)
        await session.refresh(head)  # a live service may have appended meanwhile
        if beyond > head.last_id:
            return VerifyResult(
                walked.checked, False, head.last_id + 1, "inserted", walked.last_hash
            )
    return walked


async def _walk(
    session: AsyncSession,
    box: SecretBox,
    up_to: int,
    batch: int,
    start: tuple[int, str] = (1, GENESIS),
    *,
    pause: bool = False,
) -> VerifyResult:
    """Check rows start..up_to in order (`start`: the first id and the hash before it)."""
    (expected_id, prev_hash), checked = start, start[0] - 1
    while expected_id <= up_to:
        query = _ROWS.where(TRACES.c.id >= expected_id, TRACES.c.id <= up_to).limit(batch)
        rows = (await session.execute(query)).all()
        if not rows:
            break
        for row in rows:
            problem = _problem(row, expected_id, prev_hash, box)
            if problem is not None:
                return VerifyResult(checked, False, *problem, last_hash=prev_hash)
            prev_hash, expected_id, checked = row.hash, expected_id + 1, checked + 1
        if pause:
            await asyncio.sleep(0)
    return VerifyResult(checked, True, last_hash=prev_hash)


def _problem(
    row: Row[Any], expected_id: int, prev_hash: str, box: SecretBox
) -> tuple[int, str] | None:
    if row.id != expected_id:
        return expected_id, "missing"
    if row.prev_hash != prev_hash:
        return row.id, "broken_link"
    if not box.mac_matches(canonical(row), row.hash):
        return row.id, "altered"
    return None


def _check_payload(check: ChainCheck) -> bytes:
    at = check.walked_at.astimezone(UTC).isoformat(timespec="microseconds")
    parts = (at, check.verified_id, check.verified_hash, check.bad_id, check.reason)
    return ("check:" + ":".join(str(p) for p in parts)).encode()


async def record_walk(
    session: AsyncSession, box: SecretBox, result: VerifyResult, walked_at: datetime
) -> None:
    """Keep a full walk's outcome for the reports (in the caller's transaction)."""
    check = await session.get(ChainCheck, CHECK_ID, with_for_update=True)
    if check is None:
        check = ChainCheck(id=CHECK_ID)
        session.add(check)
    check.walked_at = walked_at.astimezone(UTC)
    check.verified_id = result.checked
    check.verified_hash = result.last_hash
    check.bad_id = result.bad_id
    check.reason = result.reason
    check.seal = box.mac(_check_payload(check))
    _verified.clear()  # later checks start from this walk


async def last_walk(session: AsyncSession) -> ChainCheck | None:
    return await session.get(ChainCheck, CHECK_ID)


def walk_sound(check: ChainCheck, box: SecretBox) -> bool:
    """The kept walk found the chain whole, and its record is the one the walk sealed."""
    return check.bad_id is None and box.mac_matches(_check_payload(check), check.seal)


# Per database: the last row a check verified beyond the kept full walk, and its hash.
_verified: dict[str, tuple[int, str]] = {}


def forget_progress() -> None:
    """Forget how far this process checked beyond the kept walk, as a restart does."""
    _verified.clear()


async def chain_state(session: AsyncSession, box: SecretBox, batch: int = 5000) -> ChainState:
    """Check the chain for a report: the head and the last full walk sealed, the walk's last
    row unchanged, and every row after it. With no full walk kept yet, walk everything."""
    at = datetime.now(UTC)
    head = await session.get(TraceHead, HEAD_ID)
    if head is None:
        return ChainState(False, 0, 1, "no_head", at)
    if not _head_sealed(head, box):
        return ChainState(False, 0, head.last_id, "head_altered", at)
    check = await last_walk(session)
    if check is not None and not box.mac_matches(_check_payload(check), check.seal):
        return ChainState(False, 0, None, "check_altered", at)
    if check is not None and check.bad_id is not None:
        return ChainState(False, check.verified_id, check.bad_id, check.reason, at, check.walked_at)
    walked_to = check.verified_id if check is not None else 0
    walked_at = check.walked_at if check is not None else None
    start = (walked_to + 1, check.verified_hash) if check is not None else (1, GENESIS)
    if walked_to and not await _row_unchanged(session, walked_to, start[1]):
        return ChainState(False, walked_to - 1, walked_to, "altered", at, walked_at)
    key = str(session.get_bind().engine.url)
    known = _verified.get(key) if check is not None else None
    resumable = known is not None and walked_to < known[0] <= head.last_id
    if known is not None and resumable and await _row_unchanged(session, *known):
        start = (known[0] + 1, known[1])
    walked = await _walk(session, box, head.last_id, batch, start)
    result = await _ends_at_head(session, head, walked) if walked.ok else walked
    if not result.ok:
        _verified.pop(key, None)
        return ChainState(
            False, result.checked, result.bad_id, result.reason, at, walked_at, walked_to
        )
    if check is not None:  # without a kept full walk, every check walks it all
        _verified[key] = (result.checked, result.last_hash)
    return ChainState(True, result.checked, None, None, at, walked_at, walked_to)


async def _row_unchanged(session: AsyncSession, trace_id: int, expected_hash: str) -> bool:
    found = await session.scalar(select(Trace.hash).where(Trace.id == trace_id))
    return found == expected_hash
