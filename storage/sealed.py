"""Where the SecretBox's ciphertext lives, and whether a key opens it.

Every binary column of the schema holds a Fernet token under SECRET_KEY: a field (phone, ID
number, a leave reason), encrypted JSON (a member's profile, an archive entry, a thought
report's attachment, survey answers, a ballot box, an outbox row's sealed secrets) or a file's
bytes (archive scans, meeting photos). Nothing else is stored as binary, so a new encrypted
column is found here without being listed; key rotation re-encrypts them all.
"""

from dataclasses import dataclass

from sqlalchemy import Column, LargeBinary, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import SecretBox
from storage.models import TraceHead
from storage.tables import in_dependency_order
from storage.traces import HEAD_ID, seal_payload


def sealed_columns() -> list[tuple[Table, list[Column[bytes]]]]:
    """Each table with encrypted columns, and those columns."""
    found = []
    for table in in_dependency_order():
        columns = [c for c in table.columns if isinstance(c.type, LargeBinary)]
        if columns:
            found.append((table, columns))
    return found


@dataclass(frozen=True)
class KeyCheck:
    """What a key was tried on: one stored value of each encrypted column that has any, and
    the trace chain's sealed head; `opened`: how many of the values the key opens."""

    tried: int
    opened: int
    head_tried: bool
    head_fits: bool

    @property
    def nothing_to_try(self) -> bool:
        return not self.tried and not self.head_tried

    @property
    def fits(self) -> bool:
        """The key opens everything tried, and there was something to try."""
        head_ok = self.head_fits or not self.head_tried
        return not self.nothing_to_try and self.opened == self.tried and head_ok


async def check_key(conn: AsyncConnection, box: SecretBox) -> KeyCheck:
    """Try the key on real data: a value of every encrypted column, and the chain's head."""
    tried = opened = 0
    for _table, columns in sealed_columns():
        for column in columns:
            token = await conn.scalar(select(column).where(column.is_not(None)).limit(1))
            if token is None:
                continue
            tried += 1
            opened += _opens(box, token)
    head = (await conn.execute(select(TraceHead).where(TraceHead.id == HEAD_ID))).first()
    if head is None or head.last_id == 0:  # an empty chain has no seal to try
        return KeyCheck(tried, opened, head_tried=False, head_fits=False)
    fits = box.mac_matches(seal_payload(head.last_id, head.last_hash), head.seal)
    return KeyCheck(tried, opened, head_tried=True, head_fits=fits)


def _opens(box: SecretBox, token: bytes) -> bool:
    try:
        box.decrypt_bytes(token)
    except ValueError:
        return False
    return True
