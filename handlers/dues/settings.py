"""The dues feature's settings: a student's monthly amount unless the secretary sets another,
and the day of the month the reminder of unpaid months goes out."""

from decimal import Decimal

from pydantic import Field

from handlers.core.settings import Section


class DuesSettings(Section):
    # In yuan.
    dues_default: Decimal = Field(default=Decimal("0.2"), ge=0, le=100_000, decimal_places=2)
    # 0: never.
    dues_remind_day: int = Field(default=5, ge=0, le=28)

    @property
    def default_fen(self) -> int:
        return int(self.dues_default * 100)
