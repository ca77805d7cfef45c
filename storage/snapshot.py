"""The backup file's format: gzip'd JSON lines that SQLite and PostgreSQL both load.

A header (format, schema revision, when, the database it came from, the trace chain's head),
then for each table a line naming it and its columns followed by one JSON array per row, then
a trailer with every table's row count, so that a cut-off file is refused rather than half
loaded. Values are typed by their column: binary (the encrypted fields, still encrypted) as
base64, timestamps as ISO 8601 with their UTC offset, dates as ISO dates, JSON and plain
values as JSON has them. (A JSON column's SQL NULL and JSON null both read back as None and
are restored as JSON null: no query tells them apart.)
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)

from storage.types import UTCDateTime

FORMAT = "branchbot-backup"
VERSION = 1
PLAIN = (Integer, BigInteger, SmallInteger, String, Text, Boolean, Float, JSON)
_ENCODERS: dict[type, Callable[[Any], Any]] = {
    LargeBinary: lambda v: base64.b64encode(v).decode("ascii"),
    UTCDateTime: lambda v: v.isoformat(),
    Date: lambda v: v.isoformat(),
}
_DECODERS: dict[type, Callable[[Any], Any]] = {
    LargeBinary: base64.b64decode,
    UTCDateTime: datetime.fromisoformat,
    Date: date.fromisoformat,
}


class UnreadableBackup(ValueError):
    """Not a backup this version reads (another file, another format version, damaged)."""


@dataclass(frozen=True)
class Head:
    """The trace chain's head when the snapshot was taken: the last row, its hash, the seal."""

    last_id: int
    last_hash: str
    seal: str


@dataclass(frozen=True)
class Header:
    revision: str
    taken_at: datetime
    database: str  # "sqlite" or "postgresql": where it came from
    head: Head

    def line(self) -> str:
        head = {"last_id": self.head.last_id, "last_hash": self.head.last_hash}
        return dump_line(
            {
                "format": FORMAT,
                "version": VERSION,
                "revision": self.revision,
                "taken_at": self.taken_at.isoformat(),
                "database": self.database,
                "head": head | {"seal": self.head.seal},
            }
        )

    @classmethod
    def parse(cls, line: str) -> "Header":
        data = load_line(line)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UnreadableBackup("not a branchbot backup")
        if data.get("version") != VERSION:
            raise UnreadableBackup(f"backup format version {data.get('version')}")
        try:
            head = data["head"]
            return cls(
                str(data["revision"]),
                datetime.fromisoformat(data["taken_at"]),
                str(data["database"]),
                Head(int(head["last_id"]), str(head["last_hash"]), str(head["seal"])),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise UnreadableBackup(f"damaged header: {err}") from None


def _typed(column: Column[Any], table: dict[type, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    for kind, convert in table.items():
        if isinstance(column.type, kind):
            return convert
    if isinstance(column.type, PLAIN):
        return _same
    # A new column type must say how it is written, or backups would lose it unnoticed.
    raise TypeError(f"{column.table.name}.{column.name}: no backup form for {column.type!r}")


def _same(value: Any) -> Any:
    return value


def encoders(columns: list[Column[Any]]) -> list[Callable[[Any], Any]]:
    return [_typed(c, _ENCODERS) for c in columns]


def decoders(columns: list[Column[Any]]) -> list[Callable[[Any], Any]]:
    return [_typed(c, _DECODERS) for c in columns]


def encode_row(convert: list[Callable[[Any], Any]], row: tuple[Any, ...]) -> str:
    return dump_line([None if v is None else f(v) for f, v in zip(convert, row, strict=True)])


def decode_row(convert: list[Callable[[Any], Any]], values: list[Any]) -> list[Any]:
    return [None if v is None else f(v) for f, v in zip(convert, values, strict=True)]


def dump_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def load_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise UnreadableBackup(f"damaged line: {err}") from None
