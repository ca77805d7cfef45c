"""What an update says, read once before it is handled: its cleaned text, the command it names,
and whether it must leave no trail of its sender (Command.untracked, Flow.untracked).

The router needs the last before it loads the caller's context, since that is where a caller
is recorded as seen; reading the command there too keeps the two from ever disagreeing.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from handlers.core.incoming import Incoming
from handlers.core.parsing import clean, split_command
from handlers.core.registry import Command, Flow


@dataclass(frozen=True)
class Reading:
    text: str  # cleaned; empty for an event or a message over the length limit
    parsed: tuple[str, str] | None  # (command name, arguments), None: not a command
    untracked: bool


def read(
    incoming: Incoming,
    flow: Flow | None,
    commands: Mapping[str, Command],
    aliases: dict[str, str],
    limit: int,
) -> Reading:
    """Read `incoming`; `flow` is the flow its chat is waiting in (None: none, or gone stale)."""
    raw = incoming.callback_data if incoming.callback_data is not None else incoming.text
    if incoming.event is not None or len(raw) > limit:
        return Reading("", None, untracked=False)  # the router answers these as they are
    text = clean(raw)
    parsed = split_command(text, aliases) if text else None
    waiting = flow if incoming.is_private else None  # a group's messages are no flow's steps
    if parsed is not None and waiting is not None and waiting.free_text and text[0] != "/":
        parsed = None  # 党费，… sent to a flow that waits for free text is its answer
    if parsed is not None:
        command = commands.get(parsed[0])
        return Reading(text, parsed, command is not None and command.untracked)
    return Reading(text, None, waiting is not None and waiting.untracked)
