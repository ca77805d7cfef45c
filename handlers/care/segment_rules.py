"""The segments file (data/segments.toml, or the SEGMENTS_FILE setting): the groups /segments
sorts members into, each a condition over the named indicators of profile.py.

A condition is data, never code: {all = [...]} or {any = [...]} over tests
[indicator, op, number], checked on load and evaluated here. A mistake in the file is a
SegmentError of one line naming the group and what is wrong.
"""

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from handlers.care.profile import INDICATORS
from handlers.common.datafile import checked_toml

SEGMENTS_FILE = Path(__file__).parent / "data" / "segments.toml"
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
ACTIONS = ("notice", "study", "talk")
MODES = ("all", "any")
ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
Values = Mapping[str, float | None]


class SegmentError(ValueError):
    pass


@dataclass(frozen=True)
class Test:
    indicator: str
    op: str
    value: float

    def holds(self, values: Values) -> bool:
        found = values.get(self.indicator)
        return found is not None and OPS[self.op](found, self.value)


@dataclass(frozen=True)
class Joined:
    """Tests joined: every one must hold (all) or at least one (any)."""

    mode: str
    parts: tuple["Test | Joined", ...]

    def holds(self, values: Values) -> bool:
        found = (part.holds(values) for part in self.parts)
        return all(found) if self.mode == "all" else any(found)


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    explain: str
    when: Joined
    actions: tuple[str, ...]


@dataclass(frozen=True)
class SegmentRules:
    version: str
    window_months: int
    segments: tuple[Segment, ...]

    def by_id(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)


def _test(where: str, item: list[Any]) -> Test:
    if len(item) != 3:
        raise SegmentError(f"{where}: a test is [indicator, op, number], not {item!r}")
    indicator, op, value = item
    if indicator not in INDICATORS:
        raise SegmentError(
            f"{where}: unknown indicator {indicator!r}, use one of {', '.join(INDICATORS)}"
        )
    if op not in OPS:
        raise SegmentError(f"{where}: unknown op {op!r}, use one of {' '.join(OPS)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SegmentError(f"{where}: {indicator} {op} needs a number, not {value!r}")
    return Test(indicator, op, float(value))


def _condition(where: str, table: object) -> Joined:
    """{all = [...]} or {any = [...]}; each item a test or another such table."""
    if not isinstance(table, dict) or len(table) != 1 or next(iter(table)) not in MODES:
        raise SegmentError(f"{where}: when must be {{all = [...]}} or {{any = [...]}}")
    mode, items = next(iter(table.items()))
    if not isinstance(items, list) or not items:
        raise SegmentError(f"{where}: {mode} needs a list of tests")
    parts: list[Test | Joined] = []
    for item in items:
        if isinstance(item, list):
            parts.append(_test(where, item))
        else:
            parts.append(_condition(where, item))
    return Joined(mode, tuple(parts))


def _text(where: str, raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SegmentError(f"{where}: {key} must be a text")
    return value.strip()


def _segment(raw: object) -> Segment:
    if not isinstance(raw, dict):
        raise SegmentError("each group must be a [[segment]] table")
    segment_id = raw.get("id")
    if not isinstance(segment_id, str) or not ID.match(segment_id):
        raise SegmentError(f"segment {segment_id!r}: id must be a-z, 0-9 and _, a-z first")
    where = f"segment {segment_id}"
    actions = raw.get("actions", [])
    if not isinstance(actions, list) or not set(actions) <= set(ACTIONS):
        raise SegmentError(f"{where}: actions are some of {', '.join(ACTIONS)}")
    if "when" not in raw:
        raise SegmentError(f"{where}: when is missing")
    return Segment(
        id=segment_id,
        name=_text(where, raw, "name"),
        explain=_text(where, raw, "explain"),
        when=_condition(where, raw["when"]),
        actions=tuple(dict.fromkeys(actions)),
    )


def parse_segments(table: dict[str, Any]) -> SegmentRules:
    raws = table.get("segment", [])
    if not isinstance(raws, list) or not raws:
        raise SegmentError("no groups: add [[segment]] tables")
    segments = tuple(_segment(raw) for raw in raws)
    ids = [s.id for s in segments]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise SegmentError(f"segment ids repeat: {', '.join(repeated)}")
    months = table.get("window_months", 6)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
        raise SegmentError(f"window_months must be a whole number from 1 to 24, not {months!r}")
    return SegmentRules(str(table.get("version", "")), months, segments)


def load_segments(path: Path) -> SegmentRules:
    """Read and check one segments file; any problem is a SegmentError of one line."""
    return checked_toml(path, parse_segments, SegmentError)


@cache
def segment_rules(path: Path | None = None) -> SegmentRules:
    """The groups in `path` (None: the packaged file), read once per path."""
    return load_segments(path or SEGMENTS_FILE)
