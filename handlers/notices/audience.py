"""Who a notice goes to: one or more branches, narrowed to interns, a stage, those who have
not acknowledged an earlier notice, or the members listed (a group of /segments)."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Msg
from storage import notices


class Filter(StrEnum):
    ALL = "all"
    INTERNS = "interns"  # remote interns on placement (remote_until today or later)
    STAGE = "stage"
    UNACKED = "unacked"  # addressed by an earlier notice and not yet acknowledged
    # Those listed, still active in the branches (a group of /segments, named by `label`
    # for the secretary; the recipients are never told which group they were in).
    LISTED = "listed"


@dataclass(frozen=True)
class Audience:
    branches: tuple[int, ...]
    filter: Filter = Filter.ALL
    stage: str | None = None
    notice_id: int | None = None
    members: tuple[int, ...] = ()
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"branches": list(self.branches), "filter": str(self.filter)}
        if self.stage is not None:
            data["stage"] = self.stage
        if self.notice_id is not None:
            data["notice"] = self.notice_id
        if self.filter == Filter.LISTED:
            data["members"], data["label"] = list(self.members), self.label
        return data

    def traced(self) -> dict[str, Any]:
        """As written in the notice's trace: a list only counted, never who nor its label
        (a trace is kept for ever and read by auditors)."""
        data = self.to_json()
        if self.filter == Filter.LISTED:
            data["members"] = len(self.members)
            del data["label"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Audience":
        return cls(
            tuple(int(b) for b in data["branches"]),
            Filter(data.get("filter", Filter.ALL)),
            data.get("stage"),
            data.get("notice"),
            tuple(int(m) for m in data.get("members", ())),
            data.get("label"),
        )

    async def member_ids(
        self, session: AsyncSession, today: date, *, exclude: int | None
    ) -> list[int]:
        return await notices.audience_ids(
            session,
            self.branches,
            today=today,
            interns_only=self.filter == Filter.INTERNS,
            stage=self.stage if self.filter == Filter.STAGE else None,
            unacked_of=self.notice_id if self.filter == Filter.UNACKED else None,
            among=self.members if self.filter == Filter.LISTED else None,
            exclude=exclude,
        )

    def describe(self, branch_names: list[str]) -> Msg:
        if len(branch_names) == 1:
            scope: Msg | str = branch_names[0]
        else:
            scope = Msg("audience.branches", count=len(branch_names))
        if self.filter == Filter.STAGE:
            who = Msg("audience.stage", stage=Msg(f"stage.{self.stage}"))
        elif self.filter == Filter.UNACKED:
            who = Msg("audience.unacked", id=self.notice_id)
        elif self.filter == Filter.LISTED:
            who = Msg("audience.listed", label=self.label or "-")
        else:
            who = Msg(f"audience.{self.filter}")
        return Msg("audience.desc", scope=scope, who=who)
