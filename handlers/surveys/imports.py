"""A survey from a JSON or YAML file (`branchbot surveys import`), checked as a whole and
published at once, or refused with every problem listed and nothing stored.

The file holds the same definition the guided /survey_new builds:
    title: 学习需求调查
    anonymous: true
    deadline: 2026-12-20 18:00      # or a date: the end of that day
    audience: branch                # interns, or a stage: 入党积极分子 / activist ...
    questions:
      - {kind: 单选, text: 您最希望学习哪个专题？, options: [党史, 党章, 时事]}
      - {kind: scale, text: 您对上月党课的满意度}
"""

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import UserError
from handlers.surveys.publish import Published, publish
from handlers.surveys.spec import from_dict
from storage.crypto import SecretBox
from storage.models import Branch

SUFFIXES = (".json", ".yaml", ".yml")


def read_definition(name: str, raw: bytes) -> Any:
    """The file's content as Python values; UserError for a file that cannot be read."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError("survey.file_format", name=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserError("survey.file_encoding", name=name) from err
    try:
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise UserError("survey.file_unreadable", name=name, problem=_first_line(err)) from err


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


async def import_survey(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    name: str,
    raw: bytes,
    now: datetime,
    zone: ZoneInfo,
) -> Published:
    """Publish the survey a file describes for the branch; SpecInvalid lists its problems."""
    spec = from_dict(read_definition(name, raw), zone, now)
    today: date = now.astimezone(zone).date()
    return await publish(
        session,
        box,
        spec,
        branch_id=branch.id,
        actor_id=None,
        now=now,
        today=today,
        via="import",
    )
