"""The frequency rules (data/frequency.toml) and the calendar periods they are counted in."""

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from handlers.common.periods import Period, add_months
from storage.enums import MeetingKind

FREQUENCY_FILE = Path(__file__).parent / "data" / "frequency.toml"
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    source: str
    kind: MeetingKind
    period: str  # month, quarter, year
    at_least: int

    def period_of(self, day: date) -> Period:
        """The calendar month, quarter or year that holds `day`."""
        months = PERIOD_MONTHS[self.period]
        first_month = (day.month - 1) // months * months + 1
        start = date(day.year, first_month, 1)
        return Period(start, add_months(start, months))


@dataclass(frozen=True)
class RuleSet:
    version: str
    basis: str
    rules: tuple[Rule, ...]


def parse_rules(table: dict[str, Any]) -> RuleSet:
    """The rules of a parsed file; a ValueError naming the rule and the problem."""
    rules = []
    for raw in table.get("rule", []):
        rule_id = str(raw.get("id", "?"))
        try:
            rule = Rule(
                id=rule_id,
                name=str(raw["name"]),
                source=str(raw["source"]),
                kind=MeetingKind(raw["kind"]),
                period=str(raw["period"]),
                at_least=int(raw["at_least"]),
            )
        except (KeyError, ValueError) as err:
            raise ValueError(f"rule {rule_id}: {err}") from err
        if rule.period not in PERIOD_MONTHS or rule.at_least < 1:
            raise ValueError(f"rule {rule_id}: period month|quarter|year, at_least ≥ 1")
        rules.append(rule)
    return RuleSet(str(table["version"]), str(table.get("basis", "")), tuple(rules))


@cache
def frequency_rules(path: Path = FREQUENCY_FILE) -> RuleSet:
    with path.open("rb") as fh:
        return parse_rules(tomllib.load(fh))
