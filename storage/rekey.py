"""Key rotation (`branchbot rotate-key`): everything the old SECRET_KEY sealed or signed,
moved under a new one in one transaction.

- Every encrypted value (storage/sealed.py) is decrypted with the old key and encrypted with
  the new one.
- The trace chain, walked in full with the old key first (a broken chain is not re-signed:
  that would launder the break), is re-signed row by row under the new key, and a
  `key.rotated` trace records the old head (its last id and hash) and what was converted.
- What cannot be converted because only a keyed hash of it is kept is ended: open invite and
  binding codes are revoked (they are issued again) and open web sign-in codes deleted; web
  sessions (cookies signed with the key) end, so everyone signs in again.

One transaction: a crash anywhere before the commit leaves everything under the old key, and
after it everything under the new one. The service must be stopped meanwhile.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import chain, traces
from storage.chain import VerifyResult
from storage.crypto import SecretBox
from storage.models import InviteCode, TraceHead, WebLoginCode
from storage.sealed import check_key, sealed_columns
from storage.traces import GENESIS, HEAD_ID, TRACES, canonical, seal_payload

BATCH = 500
ROTATED = "key.rotated"
# Called after each step with what it was ("members", "traces") and how many rows it changed.
Progress = Callable[[str, int], None]


class WrongKey(Exception):
    """The old key does not open the stored data: nothing was changed."""

    def __init__(self, tried: int, opened: int, head_fits: bool) -> None:
        super().__init__(f"opened {opened} of {tried} values; head seal fits: {head_fits}")
        self.tried, self.opened, self.head_fits = tried, opened, head_fits


class ChainNotSound(Exception):
    """The chain does not verify under the old key: it is not re-signed (run verify)."""

    def __init__(self, result: VerifyResult) -> None:
        super().__init__(f"chain broken at {result.bad_id}: {result.reason}")
        self.result = result


@dataclass
class Rotation:
    old_head: tuple[int, str]
    fields: dict[str, int] = field(default_factory=dict)  # table: values re-encrypted
    traces: int = 0
    invites: int = 0
    web_codes: int = 0

    @property
    def values(self) -> int:
        return sum(self.fields.values())


async def rotate(
    session: AsyncSession,
    old: SecretBox,
    new: SecretBox,
    *,
    now: datetime,
    by: str,
    progress: Progress,
) -> Rotation:
    """Move everything under `new`, in the caller's transaction (commit it to finish)."""
    conn = await session.connection()
    head = await _locked_head(conn)
    checked = await check_key(conn, old)
    if not checked.nothing_to_try and not checked.fits:
        raise WrongKey(checked.tried, checked.opened, checked.head_fits)
    walked = await chain.verify(session, old)
    if not walked.ok:
        raise ChainNotSound(walked)
    rotation = Rotation(old_head=head)
    for table, columns in sealed_columns():
        rotation.fields[table.name] = await _reseal(conn, table, columns, old, new)
        progress(table.name, rotation.fields[table.name])
    rotation.traces, new_tip = await _resign(conn, new, head[0])
    progress("traces", rotation.traces)
    rotation.invites, rotation.web_codes = await _end_keyed_codes(conn)
    progress("codes", rotation.invites + rotation.web_codes)
    await _record(session, new, rotation, walked, new_tip, now, by)
    return rotation


async def _locked_head(conn: AsyncConnection) -> tuple[int, str]:
    """The chain's head, locked: on PostgreSQL any process that still writes waits."""
    query = select(TraceHead.last_id, TraceHead.last_hash).where(TraceHead.id == HEAD_ID)
    row = (await conn.execute(query.with_for_update())).one()
    return int(row.last_id), str(row.last_hash)


async def _reseal(
    conn: AsyncConnection,
    table: Table,
    columns: list[Column[bytes]],
    old: SecretBox,
    new: SecretBox,
) -> int:
    """Re-encrypt the table's encrypted values, a batch of rows at a time in key order."""
    key = list(table.primary_key.columns)
    query = select(*key, *columns).where(or_(*(c.is_not(None) for c in columns))).order_by(*key)
    statement = (
        update(table)
        .where(*(k == bindparam(f"k_{k.name}") for k in key))
        .values({c.name: bindparam(f"v_{c.name}") for c in columns})
    )
    done, after = 0, None
    while True:
        page = query if after is None else query.where(tuple_(*key) > tuple_(*after))
        rows = (await conn.execute(page.limit(BATCH))).all()
        if not rows:
            return done
        changes = [_resealed(row._mapping, key, columns, old, new) for row in rows]
        await conn.execute(statement, changes)
        done += sum(row._mapping[c.name] is not None for row in rows for c in columns)
        after = [rows[-1]._mapping[k.name] for k in key]


def _resealed(
    row: Any, key: list[Column[Any]], columns: list[Column[bytes]], old: SecretBox, new: SecretBox
) -> dict[str, Any]:
    values = {f"k_{k.name}": row[k.name] for k in key}
    for column in columns:
        token = row[column.name]
        values[f"v_{column.name}"] = (
            None if token is None else new.encrypt_bytes(old.decrypt_bytes(token))
        )
    return values


_RESIGN = (
    update(TRACES)
    .where(TRACES.c.id == bindparam("k_id"))
    .values(prev_hash=bindparam("v_prev"), hash=bindparam("v_hash"))
)


async def _resign(conn: AsyncConnection, new: SecretBox, last_id: int) -> tuple[int, str]:
    """Sign rows 1..last_id again under `new` (verified under the old key just before, in
    this transaction); move the head's hash and seal. Returns the rows and the new tip."""
    prev, after = GENESIS, 0
    while after < last_id:
        query = select(TRACES).where(TRACES.c.id > after, TRACES.c.id <= last_id)
        rows = (await conn.execute(query.order_by(TRACES.c.id).limit(BATCH))).all()
        changes = []
        for row in rows:
            signed = new.mac(canonical(row, prev))
            changes.append({"k_id": row.id, "v_prev": prev, "v_hash": signed})
            prev = signed
        await conn.execute(_RESIGN, changes)
        after = rows[-1].id
    if last_id:
        seal = new.mac(seal_payload(last_id, prev))
        values = {"last_hash": prev, "seal": seal}
        await conn.execute(update(TraceHead).where(TraceHead.id == HEAD_ID).values(values))
    return last_id, prev


async def _end_keyed_codes(conn: AsyncConnection) -> tuple[int, int]:
    """Revoke open invite and binding codes and delete open web sign-in codes: only their
    keyed hashes are kept, which the new key cannot reproduce."""
    # Expired ones too: whatever the clock says, no code sealed under the old key stays open.
    still_open = (InviteCode.used_at.is_(None), InviteCode.revoked.is_(False))
    invites = await conn.scalar(select(func.count()).where(*still_open))
    await conn.execute(update(InviteCode).where(*still_open).values(revoked=True))
    web_codes = await conn.scalar(select(func.count()).select_from(WebLoginCode))
    await conn.execute(delete(WebLoginCode))
    return int(invites or 0), int(web_codes or 0)


async def _record(
    session: AsyncSession,
    new: SecretBox,
    rotation: Rotation,
    walked: VerifyResult,
    new_tip: str,
    now: datetime,
    by: str,
) -> None:
    """The walk just made, kept under the new key, and the rotation's own trace after it."""
    resigned = VerifyResult(walked.checked, True, last_hash=new_tip)
    await chain.record_walk(session, new, resigned, now)
    old_id, old_hash = rotation.old_head
    data = {
        "old_head": old_id,
        "old_hash": old_hash,
        "resigned": rotation.traces,
        "values": rotation.values,
        "invites_revoked": rotation.invites,
        "web_codes_deleted": rotation.web_codes,
        "by": by,
    }
    await traces.append(session, new, kind=ROTATED, at=now, data=data)
