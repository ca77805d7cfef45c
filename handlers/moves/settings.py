"""The moves feature's settings (BRANCHBOT_FORMER_ACCESS_DAYS)."""

from pydantic import Field

from handlers.core.settings import Section


class MovesSettings(Section):
    # How long a member who left (transferred out, graduated …) may still read and export
    # their own data with /me and /mydata; their traces are kept whatever this says.
    former_access_days: int = Field(default=180, ge=0, le=3650)
