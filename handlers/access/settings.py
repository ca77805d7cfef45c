"""Data-access monitoring's settings: the window reads are counted in, the reads in it that
always alert and how many times an account's usual rate does, and the refused commands in it
that alert."""

from datetime import timedelta

from pydantic import Field

from handlers.core.settings import Section


class AccessSettings(Section):
    access_window_minutes: int = Field(default=60, ge=5, le=24 * 60)
    access_max_reads: int = Field(default=200, ge=5, le=100_000)
    access_usual_factor: float = Field(default=5.0, ge=1.5, le=100)
    access_min_reads: int = Field(default=20, ge=1, le=100_000)
    access_max_refusals: int = Field(default=10, ge=2, le=1000)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.access_window_minutes)
