"""The care rules file (data/rules.toml): one table per part of handlers/care, each read into
its own frozen value; a problem in the file is a ValueError naming the table and the key."""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from storage.enums import Presence

RULES_FILE = Path(__file__).parent / "data" / "rules.toml"


@cache
def care_rules(path: Path = RULES_FILE) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class Vocabulary:
    """Kinds of a thing and the words each is typed with (病假 → sick)."""

    words: Mapping[str, tuple[str, ...]]

    def kind_named(self, text: str) -> str | None:
        wanted = text.strip().lower()
        return next((k for k, words in self.words.items() if wanted in words), None)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.words)


@dataclass(frozen=True)
class SixMonthRule:
    source: str
    quote: str
    thresholds: tuple[int, ...]  # ascending; the last is six months itself (listed)
    remind_member_at: int
    list_from: int
    lookback_months: int
    attended: frozenset[str]  # attendance records that count as taking part
    excused: frozenset[str]  # attendance records that excuse the meeting
    excusal_kinds: Vocabulary
    reason_required: frozenset[str]  # excusal kinds that need a 说明
    excusal_longest_days: int

    @property
    def listed_at(self) -> int:
        return self.thresholds[-1]

    def reached(self, count: int) -> int | None:
        """The highest threshold `count` has reached, if any."""
        return max((t for t in self.thresholds if count >= t), default=None)


def _vocabulary(table: Mapping[str, Any], where: str) -> Vocabulary:
    try:
        words = {k: tuple(str(w).lower() for w in v["words"]) for k, v in table.items()}
    except (KeyError, TypeError) as err:
        raise ValueError(f"{where}: each kind needs its words ({err})") from err
    if not words:
        raise ValueError(f"{where}: no kinds")
    return Vocabulary(words)


def _presences(values: list[str], key: str) -> frozenset[str]:
    known = {p.value for p in Presence}
    if not set(values) <= known:
        raise ValueError(f"six_month.{key}: attendance records are {sorted(known)}")
    return frozenset(values)


def parse_six_month(table: Mapping[str, Any]) -> SixMonthRule:
    try:
        kinds = table["excusal_kinds"]
        rule = SixMonthRule(
            source=str(table["source"]),
            quote=str(table["quote"]),
            thresholds=tuple(sorted(int(t) for t in table["thresholds"])),
            remind_member_at=int(table["remind_member_at"]),
            list_from=int(table["list_from"]),
            lookback_months=int(table["lookback_months"]),
            attended=_presences(table["attended"], "attended"),
            excused=_presences(table["excused"], "excused"),
            excusal_kinds=_vocabulary(kinds, "six_month.excusal_kinds"),
            reason_required=frozenset(k for k, v in kinds.items() if v.get("reason_required")),
            excusal_longest_days=int(table["excusal_longest_days"]),
        )
    except KeyError as err:
        raise ValueError(f"six_month: {err} is missing") from err
    if not rule.thresholds or rule.thresholds[0] < 1 or rule.lookback_months <= rule.listed_at:
        raise ValueError("six_month: thresholds ≥ 1, and lookback_months beyond the last one")
    return rule


@cache
def six_month_rule() -> SixMonthRule:
    return parse_six_month(care_rules()["six_month"])


@cache
def note_kinds() -> Vocabulary:
    return _vocabulary(care_rules()["notes"]["kinds"], "notes.kinds")
