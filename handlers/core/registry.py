"""How a feature module declares its commands, who may use them, and its multi-step flows.

Each feature owns one `Feature`; `handlers.FEATURES` lists them, and the bot's router builds
its command table from that list, so the whole command surface is visible in one place.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.core.messages import Reply
from storage.enums import Role

if TYPE_CHECKING:
    from handlers.core.context import Context
    from handlers.core.incoming import Location

Replies = Reply | list[Reply]
CommandFn = Callable[["Context", str], Awaitable[Replies]]
FlowFn = Callable[["Context", str, dict[str, Any], str], Awaitable[Replies]]
LocationFn = Callable[["Context", "Location"], Awaitable[Replies]]
EventFn = Callable[["Context"], Awaitable[Replies]]

EVERYONE: frozenset[Role] = frozenset(Role)
COMMITTEE_UP: frozenset[Role] = frozenset({Role.COMMITTEE, Role.SECRETARY, Role.ADMIN})
SECRETARY_UP: frozenset[Role] = frozenset({Role.SECRETARY, Role.ADMIN})
ADMIN_ONLY: frozenset[Role] = frozenset({Role.ADMIN})
# The role a member who left (transferred out, graduated …) has while they may still read their
# own data: only commands registered with `for_former=True` allow it.
FORMER = "former"

# How a command sent in a group chat is answered (Command.in_group). PRIVATELY: in the sender's
# private chat, with a short note in the group that the answer went there (the default, so
# nobody's record is ever shown in a group); HERE: in the group (binding it, a roll-call);
# QUIETLY: privately, without the note (a check-in code: thirty notes would drown the group).
PRIVATELY = "privately"
HERE = "here"
QUIETLY = "quietly"


@dataclass(frozen=True)
class Command:
    """One command. `roles` None means anyone, even a user who has not bound an account."""

    name: str
    handler: CommandFn
    roles: frozenset[Role] | None
    aliases: tuple[str, ...] = ()
    # Answered only in private: sent in a group, the answer goes to the sender's private chat
    # (as PRIVATELY below, whatever in_group says).
    private_only: bool = False
    hidden: bool = False  # reachable (e.g. by a button) but not listed in /help or the menu
    # Usable in the middle of a multi-step command without ending it (e.g. 收到 on a notice).
    keeps_flow: bool = False
    # Longest argument text accepted; None: the router's default (Options.max_args_length).
    max_args: int | None = None
    # Open to a member who left, during their access period (their own data: /me, /mydata).
    for_former: bool = False
    in_group: str = PRIVATELY
    # What is typed with it is a secret (an invite code): refused in a group, where it was
    # just shown to everyone.
    secret_args: bool = False
    # Leaves no trail of who sent it (anonymous feedback): the router does not record the
    # sender as seen (no last-seen time, no last-used app), so no row ties the update to them.
    untracked: bool = False

    @property
    def summary_key(self) -> str:
        return f"cmd.{self.name}.summary"

    @property
    def usage_key(self) -> str:
        return f"cmd.{self.name}.usage"

    def allows(self, role: str | None) -> bool:
        if self.roles is None or (role == FORMER and self.for_former):
            return True
        return role is not None and role in self.roles


@dataclass(frozen=True)
class Flow:
    name: str
    step: FlowFn
    roles: frozenset[Role] | None
    # A shared location is an answer to this flow (not a check-in at a venue).
    takes_location: bool = False
    # Its steps leave no trail of who sent them, as Command.untracked.
    untracked: bool = False
    # It waits for free text: a message that merely starts with a command's Chinese alias
    # (党费，…) is the answer, not that command; only a slash (or a button) leaves the flow.
    free_text: bool = False

    def allows(self, role: str | None) -> bool:
        return self.roles is None or (role is not None and role in self.roles)


class Feature:
    """A feature's commands and flows, registered next to their code with decorators."""

    def __init__(self, name: str, order: Sequence[str] = ()) -> None:
        self.name = name
        # How /help and the menu list this feature's commands (others follow, as registered);
        # without it, the order its modules happen to be imported in.
        self.order = tuple(order)
        self.commands: list[Command] = []
        self.flows: dict[str, Flow] = {}
        # What a shared location means outside any flow (e.g. checking in at the venue).
        self.location: LocationFn | None = None
        # What happens to a group chat (handlers.core.incoming's events) and replies to the
        # bot's group posts ("group_reply"), by event name.
        self.events: dict[str, EventFn] = {}

    def command(
        self,
        name: str,
        *,
        roles: frozenset[Role] | None = EVERYONE,
        aliases: Iterable[str] = (),
        private_only: bool = False,
        hidden: bool = False,
        keeps_flow: bool = False,
        max_args: int | None = None,
        for_former: bool = False,
        in_group: str = PRIVATELY,
        secret_args: bool = False,
        untracked: bool = False,
    ) -> Callable[[CommandFn], CommandFn]:
        def register(fn: CommandFn) -> CommandFn:
            command = Command(
                name,
                fn,
                roles,
                tuple(aliases),
                private_only,
                hidden,
                keeps_flow,
                max_args,
                for_former,
                PRIVATELY if private_only else in_group,
                secret_args,
                untracked,
            )
            self.commands.append(command)
            if self.order:
                rank = {n: i for i, n in enumerate(self.order)}
                self.commands.sort(key=lambda c: rank.get(c.name, len(rank)))
            return fn

        return register

    def flow(
        self,
        name: str,
        *,
        roles: frozenset[Role] | None = EVERYONE,
        takes_location: bool = False,
        untracked: bool = False,
        free_text: bool = False,
    ) -> Callable[[FlowFn], FlowFn]:
        """A multi-step command's next step; `roles` is checked again at every step."""

        def register(fn: FlowFn) -> FlowFn:
            self.flows[name] = Flow(name, fn, roles, takes_location, untracked, free_text)
            return fn

        return register

    def on_event(self, name: str) -> Callable[[EventFn], EventFn]:
        """Handle something that happened to a group chat (the bot removed, the chat moved)
        or a reply to one of the bot's group posts."""

        def register(fn: EventFn) -> EventFn:
            self.events[name] = fn
            return fn

        return register

    def on_location(self, fn: LocationFn) -> LocationFn:
        """Handle a location shared outside any multi-step command (bound members only)."""
        self.location = fn
        return fn


def as_list(replies: Replies) -> list[Reply]:
    return replies if isinstance(replies, list) else [replies]
