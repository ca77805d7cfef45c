"""`/help` lists exactly what the caller may use; `/cancel` leaves any multi-step command."""

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply
from handlers.core.registry import Command, Feature, Replies

feature = Feature("help")


def visible_commands(
    commands: list[Command] | tuple[Command, ...], role: str | None
) -> list[Command]:
    """Commands this role may use and that are meant to be listed (help and the menu)."""
    listed = [c for c in commands if not c.hidden and c.allows(role)]
    if role is not None:
        # A bound member does not need the binding commands in their list.
        listed = [c for c in listed if c.roles is not None or c.name == "help"]
    return listed


def _line(command: Command) -> Msg:
    alias = command.aliases[0] if command.aliases else ""
    return Msg(
        "help.line_alias" if alias else "help.line",
        name=command.name,
        alias=alias,
        summary=Msg(command.summary_key),
    )


@feature.command("help", roles=None, aliases=("帮助", "菜单"))
async def help_(ctx: Context, args: str) -> Replies:
    """The caller's own command list, or one command's usage with `/help NAME`."""
    commands = list(ctx.commands)
    wanted = args.strip().lstrip("/").lower()
    if wanted:
        for command in commands:
            if (command.name == wanted or wanted in command.aliases) and command.allows(ctx.role):
                return Reply(Msg("help.one", name=command.name, usage=Msg(command.usage_key)))
    lines = [_line(c) for c in visible_commands(commands, ctx.role)]
    if ctx.caller is None:
        return Reply(Msg("help.unbound", lines=lines))
    return Reply(Msg("help.list", role=Msg(f"role.{ctx.role}"), lines=lines))


@feature.command("cancel", roles=None, aliases=("取消",), keeps_flow=True)
async def cancel(ctx: Context, args: str) -> Replies:
    """Leave the multi-step command in progress, if any."""
    await ctx.end_flow()
    return Reply(Msg("cancel.ok"))
