"""The organisational-life feature's settings (BRANCHBOT_ORGLIFE_REMIND_DAYS)."""

from pydantic import Field

from handlers.core.settings import Section


class OrgLifeSettings(Section):
    # How many days before a period ends the secretary is reminded of a kind of meeting still
    # missing in it (with none scheduled); 0: never.
    orglife_remind_days: int = Field(default=14, ge=0, le=60)
