"""Care's settings: the groups /segments sorts members into (a branch's own file instead of
handlers/care/data/segments.toml)."""

from pathlib import Path

from pydantic import field_validator

from handlers.core.settings import Section


class CareSettings(Section):
    # Checked at start-up (bot.app.services.check_segments): a mistake stops the service
    # with one line naming the file, the group and the problem.
    segments_file: Path | None = None

    @field_validator("segments_file", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("segments_file")
    @classmethod
    def _segments_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}; copy handlers/care/data/segments.toml")
        return value
