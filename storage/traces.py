"""The trace store (留痕): append-only rows in one HMAC-linked chain, and its verification.

Each row's hash is HMAC(key, previous hash + the row's canonical content). The chain head is
locked by every append, so ids are gapless and concurrent writers (several processes on one
PostgreSQL) line up. storage/chain.py walks the chain and names the first row that does not fit.
"""

import functools
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
from storage.db import chunks
from storage.models import Trace, TraceHead
from storage.trace_kinds import is_known

GENESIS = "0" * 64
HEAD_ID = 1
# Core tables: appends skip the ORM unit of work, which costs more than the statements.
TRACES: Table = Trace.__table__  # type: ignore[assignment]
HEAD: Table = TraceHead.__table__  # type: ignore[assignment]
# Every trace runs these two; built once (building and compiling costs more than running them).
_INSERT = insert(TRACES)
_MOVE_HEAD = (
    update(HEAD)
    .where(
        HEAD.c.id == bindparam("head_id"),
        HEAD.c.last_id == bindparam("tip_id"),
        HEAD.c.last_hash == bindparam("tip_hash"),
    )
    .values(
        last_id=bindparam("new_id"), last_hash=bindparam("new_hash"), seal=bindparam("new_seal")
    )
)

_COLUMNS = ("id", "at", "kind", "branch_id", "member_id", "actor_id", "ref", "data")
_ROW = (*_COLUMNS, "prev_hash", "hash")
# PostgreSQL: the head moved and the row inserted in one statement, the row only if the head
# moved (see append). SQLite has no UPDATE in a WITH, and needs no such thing: one process.
_MOVED = _MOVE_HEAD.returning(HEAD.c.last_id).cte("moved")
_MOVE_AND_INSERT = (
    insert(TRACES)
    .add_cte(_MOVED)
    .from_select(
        list(_ROW),
        # Prefixed: an UPDATE takes any parameter named after one of its table's columns
        # (trace_head.id) as a value to set.
        select(*(bindparam(f"row_{n}", type_=TRACES.c[n].type) for n in _ROW)).select_from(_MOVED),
    )
)

# Built once: json.dumps with these options builds an encoder on every call.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical(trace: Trace | Row[Any], prev_hash: str | None = None) -> bytes:
    """The exact bytes a trace's hash covers; stable across SQLite and PostgreSQL. A Core row
    of the traces table will do (the chain walk reads those: ORM entities cost more).
    `prev_hash`: the bytes it covers after another previous row's hash (the chain re-signed
    under a new key)."""
    body = {
        "id": trace.id,
        "at": trace.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": trace.kind,
        "branch": trace.branch_id,
        "member": trace.member_id,
        "actor": trace.actor_id,
        "ref": trace.ref,
        "data": trace.data,
    }
    before = trace.prev_hash if prev_hash is None else prev_hash
    return (before + _CANONICAL_JSON.encode(body)).encode()


def seal_payload(last_id: int, last_hash: str) -> bytes:
    return f"head:{last_id}:{last_hash}".encode()


async def append(
    session: AsyncSession,
    box: SecretBox,
    *,
    kind: str,
    at: datetime,
    branch_id: int | None = None,
    member_id: int | None = None,
    actor_id: int | None = None,
    ref: str | None = None,
    data: dict[str, Any] | None = None,
) -> Trace:
    """Add one trace in the caller's transaction; it commits or rolls back with the change.

    Which door is for whom: code under handlers/ writes through a Tracer
    (handlers/core/tracer.py): its Context when answering an update, a SessionTracer in the
    domain functions the scheduler, command line and web page share with it. This one, and
    append_many, are below that door: the Tracers, the router's refusals after a rollback,
    and the command line's and web page's own traces (bot/)."""
    if not is_known(kind):
        raise ValueError(f"unknown trace kind {kind!r}: add it to storage/trace_kinds.py")
    fields = {
        "at": at.astimezone(UTC),
        "kind": kind,
        "branch_id": branch_id,
        "member_id": member_id,
        "actor_id": actor_id,
        "ref": ref,
        "data": data or {},
    }
    bind = session.get_bind()
    key = str(bind.engine.url)
    tip = _tips.get(key)
    if tip is not None and bind.dialect.name == "postgresql":
        # One round trip moves the head and inserts the row: the head's lock is held from
        # here to the commit, and every other writer waits for it.
        fresh = _next(box, tip, fields)
        params = _moved(box, fresh) | {f"row_{n}": v for n, v in _columns(fresh).items()}
        result = await session.execute(_MOVE_AND_INSERT, params)
        if getattr(result, "rowcount", 0) == 1:
            _tips[key] = (fresh.id, fresh.hash)
            return fresh
        tip = None  # another process appended since: read the head under its lock
    trace = await _link(session, box, tip, fields) if tip else None
    if trace is None:
        trace = await _link(session, box, await _locked_tip(session), fields, expect=False)
        assert trace is not None
    _tips[key] = (trace.id, trace.hash)
    await session.execute(_INSERT, _columns(trace))
    return trace


@dataclass(frozen=True)
class Entry:
    """One trace of a batch (see append_many)."""

    kind: str
    member_id: int | None = None
    branch_id: int | None = None
    actor_id: int | None = None
    ref: str | None = None
    data: dict[str, Any] | None = None


async def append_many(
    session: AsyncSession, box: SecretBox, entries: Sequence[Entry], at: datetime
) -> int:
    """Add many traces at one instant (a daily push to thousands): the chain is built in
    memory under one lock of the head, the head moves once, the rows go in one statement."""
    if not entries:
        return 0
    for entry in entries:
        if not is_known(entry.kind):
            raise ValueError(f"unknown trace kind {entry.kind!r}: add it to storage/trace_kinds.py")
    tip_id, tip_hash = await _locked_tip(session)
    rows = []
    for offset, entry in enumerate(entries, start=1):
        trace = Trace(
            id=tip_id + offset,
            prev_hash=tip_hash,
            at=at.astimezone(UTC),
            kind=entry.kind,
            branch_id=entry.branch_id,
            member_id=entry.member_id,
            actor_id=entry.actor_id,
            ref=entry.ref,
            data=entry.data or {},
        )
        trace.hash = tip_hash = box.mac(canonical(trace))
        rows.append(_columns(trace))
    last_id = tip_id + len(entries)
    params = _head_move(box, tip_id, rows[0]["prev_hash"], last_id, tip_hash)
    result = await session.execute(_MOVE_HEAD, params)
    if getattr(result, "rowcount", 0) != 1:
        raise RuntimeError("trace head changed while locked")
    await session.execute(_INSERT, rows)
    _tips[str(session.get_bind().engine.url)] = (last_id, tip_hash)
    return len(rows)


# The chain tip this process last wrote, per database. Only a guess: the head row's UPDATE
# checks it (and locks the row), and a stale guess falls back to reading the head under lock.
_tips: dict[str, tuple[int, str]] = {}


async def _locked_tip(session: AsyncSession) -> tuple[int, str]:
    query = select(TraceHead.last_id, TraceHead.last_hash).where(TraceHead.id == HEAD_ID)
    row = (await session.execute(query.with_for_update())).first()
    if row is None:
        raise RuntimeError("trace_head row missing: run `branchbot init`")
    return int(row[0]), str(row[1])


async def _link(
    session: AsyncSession,
    box: SecretBox,
    tip: tuple[int, str],
    fields: dict[str, Any],
    expect: bool = True,
) -> Trace | None:
    """Build the next trace after `tip` and move the head to it; None if the tip was stale."""
    trace = _next(box, tip, fields)
    result = await session.execute(_MOVE_HEAD, _moved(box, trace))
    if getattr(result, "rowcount", 0) == 1:
        return trace
    if not expect:
        raise RuntimeError("trace head changed while locked")
    return None


def _next(box: SecretBox, tip: tuple[int, str], fields: dict[str, Any]) -> Trace:
    trace = Trace(id=tip[0] + 1, prev_hash=tip[1], **fields)
    trace.hash = box.mac(canonical(trace))
    return trace


def _moved(box: SecretBox, trace: Trace) -> dict[str, Any]:
    """_MOVE_HEAD's parameters: from the trace's previous row to it."""
    return _head_move(box, trace.id - 1, trace.prev_hash, trace.id, trace.hash)


def _head_move(
    box: SecretBox, tip_id: int, tip_hash: str, new_id: int, new_hash: str
) -> dict[str, Any]:
    """_MOVE_HEAD's parameters: the head from (tip_id, tip_hash) on to a new sealed tip."""
    return {
        "head_id": HEAD_ID,
        "tip_id": tip_id,
        "tip_hash": tip_hash,
        "new_id": new_id,
        "new_hash": new_hash,
        "new_seal": box.mac(seal_payload(new_id, new_hash)),
    }


def _columns(trace: Trace) -> dict[str, Any]:
    return {name: getattr(trace, name) for name in _COLUMNS} | {
        "prev_hash": trace.prev_hash,
        "hash": trace.hash,
    }


async def iter_traces(
    session: AsyncSession,
    *,
    branch_id: int | None = None,
    since: datetime | None = None,
    member_id: int | None = None,
    batch: int = 1000,
) -> AsyncIterator[Trace]:
    """Stream traces in chain order with optional filters, a batch at a time."""
    last_seen = 0
    while True:
        query = select(Trace).where(Trace.id > last_seen)
        if branch_id is not None:
            query = query.where(Trace.branch_id == branch_id)
        if since is not None:
            query = query.where(Trace.at >= since)
        if member_id is not None:
            query = query.where((Trace.member_id == member_id) | (Trace.actor_id == member_id))
        rows = (await session.scalars(query.order_by(Trace.id).limit(batch))).all()
        if not rows:
            return
        for row in rows:
            yield row
        last_seen = rows[-1].id


async def count(
    session: AsyncSession,
    *,
    kind: str,
    ref: str | None = None,
    member_id: int | None = None,
    since: datetime | None = None,
) -> int:
    filters = {"kind": kind, "ref": ref, "member_id": member_id, "since": since}
    given = tuple(name for name, value in filters.items() if value is not None)
    params = {name: filters[name] for name in given}
    return int(await session.scalar(_count_query(given), params) or 0)


@functools.cache
def _count_query(given: tuple[str, ...]) -> Select[tuple[int]]:
    """One prepared count per combination of filters."""
    columns = {"kind": Trace.kind, "ref": Trace.ref, "member_id": Trace.member_id}
    query = select(func.count(Trace.id))
    for name in given:
        column = Trace.at if name == "since" else columns[name]
        query = query.where(
            column >= bindparam(name) if name == "since" else column == bindparam(name)
        )
    return query


async def kinds_for_member(session: AsyncSession, member_id: int) -> dict[str, int]:
    """How many traces of each kind are about this member (for their own summary)."""
    rows = await session.execute(_KINDS_FOR_MEMBER, {"member_id": member_id})
    return {kind: int(n) for kind, n in rows.all()}


_KINDS_FOR_MEMBER = (
    select(Trace.kind, func.count(Trace.id))
    .where(Trace.member_id == bindparam("member_id"))
    .group_by(Trace.kind)
)


async def refs_present(session: AsyncSession, kind: str, refs: Sequence[str]) -> set[str]:
    """Which of these refs already have a trace of this kind: a job that runs twice (a
    restart, two replicas) traces each reminder once."""
    found: set[str] = set()
    for chunk in chunks(refs):
        query = select(Trace.ref).where(Trace.kind == kind, Trace.ref.in_(chunk))
        found.update(r for r in (await session.scalars(query)).all() if r is not None)
    return found
