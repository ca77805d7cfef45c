"""What a feature's settings section is made of.

Each feature declares its settings once, as a `Section` in its own `settings.py`; the bot's
Settings (bot/app/settings.py) is made of these sections, so every field keeps its flat
BRANCHBOT_<FIELD> variable and branchbot.toml key, and `Options` hands each feature its own.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

_CLOCK = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")


class Section(BaseModel):
    """One feature's settings: validated once at start-up, read-only after."""

    model_config = ConfigDict(frozen=True)


def _clock_time(value: str) -> str:
    value = value.strip()
    if value and not _CLOCK.fullmatch(value):
        raise ValueError(f"a time of day as HH:MM (e.g. 20:00), or empty for off: {value!r}")
    return value


# When a daily job runs, HH:MM in the configured zone; empty turns the job off.
ClockTime = Annotated[str, AfterValidator(_clock_time)]
