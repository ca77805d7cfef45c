"""The one door a handler has to the world: session, caller, clock, options and tracer.

The bot builds a Context per update (the scheduler and CLI build their own); handlers never
import configuration, engines or platform libraries.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.incoming import Attachment, Incoming
from handlers.core.messages import UserError
from handlers.core.parsing import as_typed
from handlers.core.registry import FORMER, Command
from handlers.core.settings import Section
from handlers.core.tracer import OWN_BRANCH, BranchArg, Entry, or_own, write
from storage import conversations, traces
from storage.crypto import SecretBox
from storage.enums import Role
from storage.group_models import BranchGroup
from storage.models import Conversation, Member, PlatformAccount, Trace

S = TypeVar("S", bound=Section)


@dataclass(frozen=True)
class Options:
    """What handlers are configured with: the zone, the core's limits, and each feature's own
    settings section (declared once in handlers/<feature>/settings.py), read with `of`."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    max_text_length: int = 4096
    max_args_length: int = 1000
    sections: Mapping[type[Section], Section] = field(default_factory=dict)

    @classmethod
    def read(cls, settings: Section, timezone: ZoneInfo) -> "Options":
        """The sections `settings` is made of (the bot's Settings has each feature's section
        as a base), each read off it by its fields' names: a feature holds its own settings
        and nothing else."""
        kinds = [k for k in type(settings).__bases__ if issubclass(k, Section)]
        return cls(timezone).having(
            *(k(**{name: getattr(settings, name) for name in k.model_fields}) for k in kinds)
        )

    def of(self, kind: type[S]) -> S:
        """A feature's settings section; its defaults where none was given (tests)."""
        found = self.sections.get(kind)
        return found if isinstance(found, kind) else kind()

    def having(self, *sections: Section) -> "Options":
        """These options with the given sections in place of those of the same kind."""
        return replace(self, sections={**self.sections, **{type(s): s for s in sections}})


# Builds a link that opens the bot with `/start CODE` on a platform, where it has one.
DeepLinker = Callable[[str, str], str | None]


def no_links(_platform: str, _code: str) -> str | None:
    return None


class FileUnavailable(Exception):
    """The bytes of a file a user sent could not be had: no fetcher for its platform, the
    platform refused, or it is larger than the limit asked for."""


# Fetches the bytes of a file a user sent: (platform, attachment, at most this many bytes).
# Adapters register one per platform (bot/app/services.py Files); most features keep the
# platform's handle instead, the archive keeps the bytes (a WeCom media id lasts 3 days).
FileFetcher = Callable[[str, Attachment, int], Awaitable[bytes]]


async def no_files(platform: str, _attachment: Attachment, _limit: int) -> bytes:
    raise FileUnavailable(f"no file fetcher for {platform}")


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
    fetch_file: FileFetcher = no_files
    # The multi-step command this chat is in the middle of, if any.
    conversation: Conversation | None = None
    # The caller left the branch's roster (members.left_on) and may still read their own
    # data until members.access_until: their role is FORMER.
    former: bool = False
    # The bound branch group the message came from, if it came from one.
    group: BranchGroup | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.options.timezone).date()

    @property
    def role(self) -> str | None:
        if self.former:
            return FORMER
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

    async def trace_view_of(self, person: Member, what: str, *, ref: str | None = None) -> None:
        """Record that the caller viewed someone else's `what` (data.viewed, in the person's
        branch, or the caller's where the person has none); one's own data is not traced."""
        if self.caller is not None and person.id == self.caller.id:
            return
        await self.trace(
            "data.viewed",
            member_id=person.id,
            branch_id=or_own(person.branch_id),
            ref=ref,
            data={"what": what},
        )

    async def trace(
        self,
        kind: str,
        *,
        member_id: int | None = None,
        branch_id: BranchArg = OWN_BRANCH,
        ref: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Trace:
        """Record an action by the caller, in this update's transaction (a Context is the
        Tracer of handlers/core/tracer.py). The branch is the caller's unless one is given;
        None is no branch."""
        actor = self.caller
        return await write(
            self.session,
            self.box,
            self.now,
            kind,
            actor=(actor.id, actor.branch_id) if actor else (None, None),
            member_id=member_id,
            branch_id=branch_id,
            ref=ref,
            data=data,
        )

    async def trace_many(self, entries: Sequence[Entry]) -> int:
        return await traces.append_many(self.session, self.box, entries, self.now)

    async def start_flow(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        inc = self.incoming
        self.conversation = await conversations.start(
            self.session, inc.platform, inc.account_id, flow, step, data or {}, self.now
        )

    async def end_flow(self) -> None:
        if self.conversation is not None:
            await self.session.delete(self.conversation)
            # At once: a command that ends the chat's flow and starts one of its own must
            # find the row gone, not revive (and then lose) the one marked for deletion.
            await self.session.flush()
            self.conversation = None
