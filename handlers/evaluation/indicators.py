"""The indicator system (考评指标): read from data/indicators.toml and checked on load.

An indicator names a formula from a fixed table in code (formulas.py), so the file can
re-weight and re-target the evaluation but never run arbitrary code.
"""

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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
    found: list[Indicator] = []
    for raw in table.get("indicator", []):
        found.append(_indicator(dict(raw)))
    ids = [i.id for i in found]
    if len(set(ids)) != len(ids):
        raise IndicatorError(f"indicator ids repeat: {ids}")
    if not found or sum(i.weight for i in found) <= 0:
        raise IndicatorError("the indicator system needs an indicator with a weight")
    inactive = table.get("inactive", {})
    thresholds = Thresholds(
        attendance_below=float(inactive.get("attendance_below", 0.6)),
        quiz_days_without=int(inactive.get("quiz_days_without", 30)),
        notices_below=float(inactive.get("notices_below", 0.5)),
    )
    return IndicatorSet(str(table.get("version", "")), found, thresholds)


def _indicator(raw: dict[str, Any]) -> Indicator:
    name = raw.get("id", "?")
    try:
        indicator = Indicator(
            id=str(raw["id"]),
            name=str(raw["name"]),
            group=str(raw["group"]),
            formula=str(raw["formula"]),
            weight=float(raw["weight"]),
            target=float(raw["target"]),
            description=str(raw.get("description", "")),
            per_month=float(raw.get("per_month", 0)),
            stages=tuple(str(s) for s in raw.get("stages", ())),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise IndicatorError(f"indicator {name}: missing or bad field {err}") from err
    if indicator.formula not in FORMULAS:
        raise IndicatorError(f"indicator {name}: unknown formula {indicator.formula!r}")
    if indicator.group not in GROUPS:
        raise IndicatorError(f"indicator {name}: unknown group {indicator.group!r}")
    if indicator.weight < 0 or not 0 < indicator.target <= 1:
        raise IndicatorError(f"indicator {name}: weight >= 0 and 0 < target <= 1")
    needs_count = indicator.formula in ("learned", "volunteer_hours", "thought_reports")
    if needs_count and indicator.per_month <= 0:
        raise IndicatorError(f"indicator {name}: per_month > 0 is needed")
    return indicator


@cache
def indicator_set(path: Path = INDICATORS_FILE) -> IndicatorSet:
    with path.open("rb") as fh:
        return parse_indicators(tomllib.load(fh))
