"""The one door a handler has to the world: session, caller, clock, options and trace writer.

The bot builds a Context per update (the scheduler and CLI build their own); handlers never
import configuration, engines or platform libraries.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.incoming import Incoming
from handlers.core.messages import UserError
from handlers.core.parsing import as_typed
from handlers.core.registry import Command
from storage import conversations, traces
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Conversation, Member, PlatformAccount, Trace


@dataclass(frozen=True)
class Options:
    """The settings handlers need, as plain values (built from the bot's configuration)."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    invite_ttl: timedelta = timedelta(days=30)
    max_text_length: int = 4096
    max_args_length: int = 1000
    # When the author of a notice gets its acknowledgement summary; None: never.
    notice_summary_after: timedelta | None = timedelta(hours=24)
    # A check-in this long after the start counts as late.
    checkin_grace: timedelta = timedelta(minutes=10)
    # A shared location this close to the venue checks the member in.
    checkin_radius_m: int = 300
    # Reminders before each meeting, in minutes.
    meeting_reminders: tuple[float, ...] = (24 * 60, 60)
    # Check-in opens automatically this long before the start.
    checkin_opens_before: timedelta = timedelta(minutes=15)
    # Members with no meeting for this many months are nudged (monthly).
    inactive_months: int = 3
    # Questions in a daily quiz; the study jobs' times of day ("HH:MM", "" for off).
    quiz_size: int = 5
    quiz_remind_at: str = "20:00"
    material_push_at: str = "08:00"
    # The development pipeline's reminders (see the settings of the same names).
    thought_report_months: int = 3
    contact_talk_months: int = 3
    deadline_notice_days: int = 30
    pipeline_remind_at: str = "09:00"
    chain_walk_at: str = "03:30"
    # Dues: the default monthly amount in fen (0.2 yuan), the reminder's day of the month.
    dues_default_fen: int = 20
    dues_remind_day: int = 5
    # Surveys and data-access monitoring (see the settings of the same names).
    survey_min_answers: int = 5
    access_window: timedelta = timedelta(minutes=60)
    access_max_reads: int = 200
    access_usual_factor: float = 5.0
    access_min_reads: int = 20
    access_max_refusals: int = 10
    # The evaluation's indicator file (INDICATORS_FILE); None: the packaged one.
    indicators_file: Path | None = None


# Builds a link that opens the bot with `/start CODE` on a platform, where it has one.
DeepLinker = Callable[[str, str], str | None]


def no_links(_platform: str, _code: str) -> str | None:
    return None


@dataclass
class Context:
    session: AsyncSession
    box: SecretBox
    options: Options
    now: datetime
    incoming: Incoming
    account: PlatformAccount | None = None
    caller: Member | None = None
    commands: Sequence[Command] = ()
    deep_link: DeepLinker = no_links
    # The multi-step command this chat is in the middle of, if any.
    conversation: Conversation | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.options.timezone).date()

    @property
    def role(self) -> str | None:
        return self.caller.role if self.caller else None

    def typed(self, cleaned: str) -> str:
        """`cleaned` (arguments or a flow answer) as the user typed it, for free text."""
        return as_typed(self.incoming.text, cleaned)

    def branch_scope(self) -> int | None:
        """The branch whose records a staff member may see; None means all (admins). A
        non-admin without a branch sees nothing."""
        caller = self.require_caller()
        if caller.role == Role.ADMIN:
            return None
        if caller.branch_id is None:
            raise UserError("error.no_branch")
        return caller.branch_id

    def require_caller(self) -> Member:
        if self.caller is None:
            raise UserError("error.not_bound")
        return self.caller

    async def trace(
        self,
        kind: str,
        *,
        member_id: int | None = None,
        branch_id: int | None = None,
        ref: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Trace:
        """Record an action by the caller, in this update's transaction."""
        actor = self.caller
        if branch_id is None and actor is not None:
            branch_id = actor.branch_id
        return await traces.append(
            self.session,
            self.box,
            kind=kind,
            at=self.now,
            branch_id=branch_id,
            member_id=member_id,
            actor_id=actor.id if actor else None,
            ref=ref,
            data=data,
        )

    async def start_flow(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        inc = self.incoming
        self.conversation = await conversations.start(
            self.session, inc.platform, inc.account_id, flow, step, data or {}, self.now
        )

    async def end_flow(self) -> None:
        if self.conversation is not None:
            await self.session.delete(self.conversation)
            self.conversation = None
