"""The evaluation's settings: the indicator system, and when the trace chain its reports
rely on is walked in full."""

from pathlib import Path

from pydantic import field_validator

from handlers.core.settings import ClockTime, Section


class EvaluationSettings(Section):
    # A branch's own indicator file instead of handlers/evaluation/data/indicators.toml
    # (its contents are checked at start-up, see bot.app.services.check_indicators).
    indicators_file: Path | None = None
    # The nightly full walk of the trace chain (reports check only the rows added since).
    chain_walk_at: ClockTime = "03:30"

    @field_validator("indicators_file", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("indicators_file")
    @classmethod
    def _indicators_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(
                f"no such file: {value}; copy handlers/evaluation/data/indicators.toml"
            )
        return value
