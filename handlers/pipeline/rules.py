"""The statutory time rules (data/rules.toml) checked against a person's recorded file.

Each rule gives one line of a person's checklist: met, not met (with why), coming up (with its
date), overdue, or not checkable because a date is missing. Nothing here decides anything: the
checklist shows the branch what the record says, and a rule is "not met" only on evidence:

- a rule whose stages a person had passed before the bot kept their file, with none of their
  dates entered, does not apply (someone who joined the Party years ago has a paper file);
- where a date the verdict needs is not recorded, the rule is not checkable;
- something missing (a talk, the review, training hours, contact persons) is not met only if
  the bot recorded the move that closed the rule's stage; a move back-filled from the paper file
  leaves it not checkable, since the paper file may hold it.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from handlers.core.messages import Msg, Series
from storage.enums import STAGE_ORDER, EventKind, MeetingKind, Stage, StepKind
from storage.pipeline_models import Contact, DevelopmentEvent, StageChange

RULES_FILE = Path(__file__).parent / "data" / "rules.toml"
# Each check and the parameters it needs.
CHECKS: dict[str, tuple[str, ...]] = {
    "event_within": ("from", "event", "months"),
    "contacts": ("from", "min", "max"),
    "min_time": ("from", "to", "months"),
    "event_before": ("event", "to"),
    "hours_before": ("event", "to", "hours"),
    "decided_by": ("to", "meeting"),
}


class Status(StrEnum):
    MET = "met"
    UNMET = "unmet"
    DUE = "due"  # not yet done, and its date has not passed
    OVERDUE = "overdue"
    UNKNOWN = "unknown"  # a date it depends on is not recorded


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    source: str
    check: str
    params: dict[str, Any]
    deadline: bool = False

    def stage(self, key: str) -> Stage | None:
        value = self.params.get(key)
        return Stage(value) if value is not None else None


@dataclass(frozen=True)
class RuleSet:
    version: str
    basis: str
    rules: tuple[Rule, ...]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    return day + relativedelta(months=months)


def whole_months(since: date, until: date) -> int:
    """Whole months from `since` to `until` (2026-03-05 to 2026-12-01: 8)."""
    gap = relativedelta(until, since)
    return gap.years * 12 + gap.months


def parse_rules(table: dict[str, Any]) -> RuleSet:
    """Read and check the rule file's contents; a mistake names the rule and what is wrong."""
    rules = []
    for raw in table.get("rule", []):
        params = dict(raw)
        rule = Rule(
            id=str(params.pop("id")),
            name=str(params.pop("name")),
            source=str(params.pop("source")),
            check=str(params.pop("check")),
            deadline=bool(params.pop("deadline", False)),
            params=params,
        )
        if rule.check not in CHECKS:
            raise ValueError(
                f"rule {rule.id}: unknown check {rule.check!r}, use one of {list(CHECKS)}"
            )
        missing = [key for key in CHECKS[rule.check] if key not in params]
        if missing:
            raise ValueError(f"rule {rule.id}: {rule.check} needs {', '.join(missing)}")
        for key in ("months", "min", "max", "hours"):
            if key in params and not (isinstance(params[key], int | float) and params[key] >= 0):
                raise ValueError(f"rule {rule.id}: {key} must be a number, not {params[key]!r}")
        for key in ("from", "to", "until"):
            if key in params and params[key] not in {s.value for s in Stage}:
                raise ValueError(f"rule {rule.id}: {key} = {params[key]!r} is not a stage")
        if "event" in params and params["event"] not in {e.value for e in EventKind}:
            raise ValueError(f"rule {rule.id}: event = {params['event']!r} is not an event kind")
        if "meeting" in params and params["meeting"] not in {k.value for k in MeetingKind}:
            raise ValueError(f"rule {rule.id}: meeting = {params['meeting']!r} is not a kind")
        rules.append(rule)
    if len({r.id for r in rules}) != len(rules):
        raise ValueError("rule ids must be unique")
    return RuleSet(str(table["version"]), str(table.get("basis", "")), tuple(rules))


@cache
def rule_set(path: Path = RULES_FILE) -> RuleSet:
    with path.open("rb") as fh:
        return parse_rules(tomllib.load(fh))


def stage_index(stage: str) -> int:
    return STAGE_ORDER.index(Stage(stage))


@dataclass
class PersonFile:
    """What the checks read: one person's stage, steps, events and contact persons."""

    stage: str
    steps: list[StageChange]
    events: list[DevelopmentEvent]
    contacts: list[Contact]  # current and ended, oldest first
    # Kinds of the meetings the steps name (meeting id → kind).
    meeting_kinds: dict[int, str] = field(default_factory=dict)
    # Stages of the contact persons (member id → stage), to check they are full members.
    contact_stages: dict[int, str] = field(default_factory=dict)
    # The votes taken on this person (meeting id → (the stage voted on, the tally)).
    votes: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def entered(self, stage: Stage) -> date | None:
        dates = [
            s.on
            for s in self.steps
            if s.stage == stage and s.kind in (StepKind.ADVANCE, StepKind.DATED)
        ]
        return max(dates) if dates else None

    def step_into(self, stage: Stage) -> StageChange | None:
        found = [s for s in self.steps if s.stage == stage and s.kind == StepKind.ADVANCE]
        return found[-1] if found else None

    def reached(self, stage: Stage | None) -> bool:
        return stage is not None and stage_index(self.stage) >= stage_index(stage)

    def extension_months(self) -> int:
        return sum(s.months or 0 for s in self.steps if s.kind == StepKind.EXTEND)

    def events_of(self, kind: str) -> list[DevelopmentEvent]:
        return [e for e in self.events if e.kind == kind]


@dataclass(frozen=True)
class Check:
    """One checklist line."""

    rule: Rule
    status: Status
    detail: Msg
    deadline: date | None = None  # the date it is due by (or, for min_time, due from)


def checklist(person: PersonFile, today: date, rules: RuleSet | None = None) -> list[Check]:
    """Every rule that applies to the person at their stage, in the file's order."""
    found = []
    for rule in (rules or rule_set()).rules:
        if _before_the_file(rule, person):
            continue
        check = _CHECKERS[rule.check](rule, person, today)
        if check is not None:
            found.append(check)
    return found


def closing_stage(rule: Rule) -> Stage | None:
    """The stage whose entry settles the rule: after it, nothing can change its verdict."""
    if rule.check == "event_within":
        start = rule.stage("from")
        index = stage_index(start) + 1 if start is not None else len(STAGE_ORDER)
        return STAGE_ORDER[index] if index < len(STAGE_ORDER) else None
    if rule.check == "contacts":
        return rule.stage("until")
    return rule.stage("to")


def _before_the_file(rule: Rule, person: PersonFile) -> bool:
    """The person passed the rule's stages before the bot kept their file (the move that
    closed it is not recorded) and the date the rule starts from was never entered: the rule
    does not apply, their paper file holds it. Entering that date brings the rule in."""
    close = closing_stage(rule)
    if close is None or not person.reached(close) or person.step_into(close) is not None:
        return False
    return person.entered(rule.stage("from") or close) is None


def _missing_date(rule: Rule, stage: Stage) -> Check:
    return Check(rule, Status.UNKNOWN, Msg("pipeline.check.no_date", stage=Msg(f"stage.{stage}")))


def _missing(rule: Rule, person: PersonFile, close: Stage, detail: Msg) -> Check:
    """Something the rule needs is not in the record: not met if the bot recorded the move
    into `close` (the branch moved the person on without it), else not checkable (the move was
    back-filled from the paper file, which may hold what is missing here)."""
    if person.step_into(close) is not None:
        return Check(rule, Status.UNMET, detail)
    paper = Msg("pipeline.check.paper", missing=detail, stage=Msg(f"stage.{close}"))
    return Check(rule, Status.UNKNOWN, paper)


def _event_within(rule: Rule, person: PersonFile, today: date) -> Check | None:
    start_stage = rule.stage("from")
    if not person.reached(start_stage) or start_stage is None:
        return None
    start = person.entered(start_stage)
    if start is None:
        return _missing_date(rule, start_stage)
    due = add_months(start, int(rule.params["months"]))
    event = Msg(f"pipeline.event.{rule.params['event']}")
    done = [e.on for e in person.events_of(rule.params["event"]) if e.on >= start]
    if done:
        first = min(done)
        if first <= due:
            return Check(rule, Status.MET, Msg("pipeline.check.done_on", event=event, on=first))
        return Check(rule, Status.UNMET, Msg("pipeline.check.late", event=event, on=first, due=due))
    close = closing_stage(rule)
    if close is not None and person.reached(close):  # moved on without it: no deadline now
        return _missing(rule, person, close, Msg("pipeline.check.never", event=event, due=due))
    if today <= due:
        return Check(rule, Status.DUE, Msg("pipeline.check.due_by", event=event, due=due), due)
    return Check(rule, Status.OVERDUE, Msg("pipeline.check.overdue", event=event, due=due), due)


def _contacts(rule: Rule, person: PersonFile, today: date) -> Check | None:
    start_stage, until = rule.stage("from"), rule.stage("until")
    if not person.reached(start_stage):
        return None
    low, high = int(rule.params["min"]), int(rule.params["max"])
    if until is not None and person.reached(until):
        # Past the activist stage: were contacts assigned while it lasted?
        ended = person.entered(until)
        during = [c for c in person.contacts if ended is None or c.assigned_on <= ended]
        if during:
            return Check(rule, Status.MET, Msg("pipeline.check.contacts_were", count=len(during)))
        return _missing(rule, person, until, Msg("pipeline.check.no_contacts"))
    current = [c for c in person.contacts if c.ended_on is None]
    not_full = [
        c.contact.name for c in current if person.contact_stages.get(c.contact_id) != Stage.FULL
    ]
    if not current:
        return Check(rule, Status.UNMET, Msg("pipeline.check.no_contacts"))
    if not_full:
        return Check(
            rule, Status.UNMET, Msg("pipeline.check.contact_not_full", names=Series(not_full))
        )
    if not low <= len(current) <= high:
        return Check(rule, Status.UNMET, Msg("pipeline.check.contact_count", count=len(current)))
    names = Series(c.contact.name for c in current)
    return Check(rule, Status.MET, Msg("pipeline.check.contacts_are", names=names))


def _min_time(rule: Rule, person: PersonFile, today: date) -> Check | None:
    start_stage, end_stage = rule.stage("from"), rule.stage("to")
    if start_stage is None or end_stage is None or not person.reached(start_stage):
        return None
    start = person.entered(start_stage)
    if start is None:
        return _missing_date(rule, start_stage)
    months = int(rule.params["months"])
    if rule.params.get("extensions"):
        months += person.extension_months()
    earliest = add_months(start, months)
    ended = person.entered(end_stage) if person.reached(end_stage) else None
    if person.reached(end_stage):
        if ended is None:
            return _missing_date(rule, end_stage)
        if ended >= earliest:
            return Check(rule, Status.MET, Msg("pipeline.check.time_met", since=start, on=ended))
        short = Msg("pipeline.check.time_short", since=start, on=ended, earliest=earliest)
        return Check(rule, Status.UNMET, short)
    if today < earliest:
        return Check(rule, Status.DUE, Msg("pipeline.check.time_from", earliest=earliest), earliest)
    if rule.deadline:  # e.g. probation over: conversion is to be discussed now
        return Check(
            rule, Status.OVERDUE, Msg("pipeline.check.time_up", earliest=earliest), earliest
        )
    return Check(rule, Status.MET, Msg("pipeline.check.time_reached", earliest=earliest))


def _before(rule: Rule, person: PersonFile) -> tuple[Stage, list[DevelopmentEvent]] | None:
    """If the rule applies: the stage it must be met before, and the events of its kind that
    count, those from entering stage `from` (when recorded) until entering `to`."""
    start_stage, end_stage = rule.stage("from"), rule.stage("to")
    if end_stage is None or not person.reached(start_stage or end_stage):
        return None
    start = person.entered(start_stage) if start_stage is not None else None
    ended = person.entered(end_stage) if person.reached(end_stage) else None
    counted = [
        e
        for e in person.events_of(rule.params["event"])
        if (start is None or e.on >= start) and (ended is None or e.on <= ended)
    ]
    return end_stage, counted


def _event_before(rule: Rule, person: PersonFile, today: date) -> Check | None:
    window = _before(rule, person)
    if window is None:
        return None
    end_stage, counted = window
    event = Msg(f"pipeline.event.{rule.params['event']}")
    done = [e.on for e in counted]
    if done:
        return Check(rule, Status.MET, Msg("pipeline.check.done_on", event=event, on=min(done)))
    if person.reached(end_stage):
        missing = Msg("pipeline.check.missing_before", event=event, stage=Msg(f"stage.{end_stage}"))
        return _missing(rule, person, end_stage, missing)
    pending = Msg("pipeline.check.needed_before", event=event, stage=Msg(f"stage.{end_stage}"))
    return Check(rule, Status.DUE, pending)


def _hours_before(rule: Rule, person: PersonFile, today: date) -> Check | None:
    window = _before(rule, person)
    if window is None:
        return None
    end_stage, counted = window
    needed = float(rule.params["hours"])
    hours = sum(e.hours or 0 for e in counted)
    detail = Msg("pipeline.check.hours", hours=_hours(hours), needed=_hours(needed))
    if hours >= needed:
        return Check(rule, Status.MET, detail)
    if person.reached(end_stage):
        return _missing(rule, person, end_stage, detail)
    return Check(rule, Status.DUE, detail)


def _decided_by(rule: Rule, person: PersonFile, today: date) -> Check | None:
    end_stage = rule.stage("to")
    if end_stage is None or not person.reached(end_stage):
        return None
    step = person.step_into(end_stage)
    kind = Msg(f"kind.{rule.params['meeting']}")
    if step is None:  # reached before the bot kept the file: nothing to check against
        return Check(rule, Status.UNKNOWN, Msg("pipeline.check.no_step", kind=kind))
    if (
        step.meeting_id is not None
        and person.meeting_kinds.get(step.meeting_id) == rule.params["meeting"]
    ):
        voted = person.votes.get(step.meeting_id)
        if voted is not None and voted[0] == end_stage:  # the vote's counts are the basis
            tally = voted[1]
            key = "pipeline.check.voted" if tally["passed"] else "pipeline.check.vote_failed"
            status = Status.MET if tally["passed"] else Status.UNMET
            return Check(
                rule, status, Msg(key, kind=kind, id=step.meeting_id, **tally_words(tally))
            )
        return Check(rule, Status.MET, Msg("pipeline.check.decided", kind=kind, id=step.meeting_id))
    return Check(rule, Status.UNMET, Msg("pipeline.check.not_decided", kind=kind))


def tally_words(tally: dict[str, Any]) -> dict[str, int]:
    """A vote's counts as a message's placeholders."""
    return {
        "yes": tally["for"],
        "against": tally["against"],
        "abstain": tally["abstain"],
        "entitled": tally["entitled"],
    }


def _hours(value: float) -> str:
    return f"{value:g}"


_CHECKERS: dict[str, Callable[[Rule, PersonFile, date], Check | None]] = {
    "event_within": _event_within,
    "contacts": _contacts,
    "min_time": _min_time,
    "event_before": _event_before,
    "hours_before": _hours_before,
    "decided_by": _decided_by,
}
