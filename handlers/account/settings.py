"""The account feature's settings (BRANCHBOT_INVITE_TTL_DAYS)."""

from datetime import timedelta

from pydantic import Field

from handlers.core.settings import Section


class AccountSettings(Section):
    # How long an invitation code can be used.
    invite_ttl_days: int = Field(default=30, ge=1, le=365)

    @property
    def invite_ttl(self) -> timedelta:
        return timedelta(days=self.invite_ttl_days)
