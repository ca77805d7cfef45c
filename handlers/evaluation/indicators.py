"""The indicator system (考评指标): read from data/indicators.toml, or the branch's own file
(the INDICATORS_FILE setting), and checked on load.

An indicator names a formula from a fixed table in code (formulas.py), so the file can
re-weight and re-target the evaluation but never run arbitrary code. A mistake in the file is
an IndicatorError whose one line names the indicator and what is wrong.
"""

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from handlers.common.datafile import checked_toml
from storage.enums import Stage

INDICATORS_FILE = Path(__file__).parent / "data" / "indicators.toml"
FORMULAS = (
    "attendance",
    "on_time",
    "learned",
    "quiz_days",
    "quiz_accuracy",
    "notices",
    "volunteer_hours",
    "dues",
    "thought_reports",
)
GROUPS = ("organisational", "study", "responsiveness", "branch")


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    group: str
    formula: str
    weight: float
    target: float
    description: str
    per_month: float = 0.0  # count formulas: how many a month earn the target
    stages: tuple[str, ...] = ()  # thought_reports: the stages that hand them in


@dataclass(frozen=True)
class Thresholds:
    """Below any of these, /inactive lists a member."""

    attendance_below: float = 0.6
    quiz_days_without: int = 30
    notices_below: float = 0.5


@dataclass(frozen=True)
class IndicatorSet:
    version: str
    indicators: list[Indicator]
    inactive: Thresholds = field(default_factory=Thresholds)

    @property
    def weight(self) -> float:
        return sum(i.weight for i in self.indicators)

    def by_id(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)


class IndicatorError(ValueError):
    pass


def parse_indicators(table: dict[str, Any]) -> IndicatorSet:
    """Check the file's contents; a mistake names the indicator and what is wrong."""
    raws = table.get("indicator", [])
    if not isinstance(raws, list) or not all(isinstance(raw, dict) for raw in raws):
        raise IndicatorError("each indicator must be an [[indicator]] table")
    found = [_indicator(dict(raw)) for raw in raws]
    ids = [i.id for i in found]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise IndicatorError(f"indicator ids repeat: {', '.join(repeated)}")
    if not found or sum(i.weight for i in found) <= 0:
        raise IndicatorError("the indicator system needs an indicator with a weight above 0")
    return IndicatorSet(str(table.get("version", "")), found, _thresholds(table))


def _thresholds(table: dict[str, Any]) -> Thresholds:
    """The [inactive] table: /inactive's limits, each defaulting to Thresholds'."""
    inactive = table.get("inactive", {})
    if not isinstance(inactive, dict):
        raise IndicatorError("[inactive] must be a table")
    defaults = Thresholds()

    def limit(key: str) -> float:
        return _number("[inactive]", key, inactive.get(key, getattr(defaults, key)))

    return Thresholds(
        attendance_below=limit("attendance_below"),
        quiz_days_without=int(limit("quiz_days_without")),
        notices_below=limit("notices_below"),
    )


def _indicator(raw: dict[str, Any]) -> Indicator:
    name = raw.get("id", "?")
    missing = [
        key for key in ("id", "name", "group", "formula", "weight", "target") if key not in raw
    ]
    if missing:
        raise IndicatorError(f"indicator {name}: missing {', '.join(missing)}")
    indicator = Indicator(
        id=str(raw["id"]),
        name=str(raw["name"]),
        group=str(raw["group"]),
        formula=str(raw["formula"]),
        weight=_number(name, "weight", raw["weight"]),
        target=_number(name, "target", raw["target"]),
        description=str(raw.get("description", "")),
        per_month=_number(name, "per_month", raw.get("per_month", 0)),
        stages=_stages(name, raw.get("stages", ())),
    )
    if indicator.formula not in FORMULAS:
        raise IndicatorError(
            f"indicator {name}: unknown formula {indicator.formula!r}, use one of "
            f"{', '.join(FORMULAS)}"
        )
    if indicator.group not in GROUPS:
        raise IndicatorError(
            f"indicator {name}: unknown group {indicator.group!r}, use one of {', '.join(GROUPS)}"
        )
    if indicator.weight < 0:
        raise IndicatorError(f"indicator {name}: weight must be 0 or more, not {raw['weight']!r}")
    if not 0 < indicator.target <= 1:
        raise IndicatorError(
            f"indicator {name}: target must be a rate above 0 and at most 1 (e.g. 0.9), "
            f"not {raw['target']!r}"
        )
    needs_count = indicator.formula in ("learned", "volunteer_hours", "thought_reports")
    if needs_count and indicator.per_month <= 0:
        raise IndicatorError(f"indicator {name}: formula {indicator.formula} needs per_month > 0")
    return indicator


def _number(name: object, key: str, value: object) -> float:
    """A finite number from the file: TOML gives int or float; a string ("25"), a boolean or
    nan is a mistake to name rather than to guess at. `name`: the indicator's id, or the
    table the key is in."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        where = name if str(name).startswith("[") else f"indicator {name}"
        raise IndicatorError(f"{where}: {key} must be a number, not {value!r}")
    return float(value)


def _stages(name: object, value: object) -> tuple[str, ...]:
    """The stages a thought_reports indicator concerns; a misspelt one would silently leave
    everyone out, so it is refused."""
    known = [s.value for s in Stage]
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise IndicatorError(f"indicator {name}: stages must be a list such as {known[:2]}")
    unknown = [s for s in value if s not in known]
    if unknown:
        raise IndicatorError(
            f"indicator {name}: unknown stage {unknown[0]!r}, use one of {', '.join(known)}"
        )
    return tuple(value)


def load_indicators(path: Path) -> IndicatorSet:
    """Read and check one indicator file; any problem (unreadable, not TOML, a bad indicator)
    is an IndicatorError of one line (the caller names the file)."""
    return checked_toml(path, parse_indicators, IndicatorError)


@cache
def indicator_set(path: Path | None = None) -> IndicatorSet:
    """The indicator system in `path` (None: the packaged default), read once per path."""
    return load_indicators(path or INDICATORS_FILE)
