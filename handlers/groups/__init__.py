"""The branch's group chat (支部群): binding a group to a branch, what happens to it (the bot
removed, the chat upgraded), and the bot's posts there that change in place."""

from handlers.groups import appchat, binding, replies, robot  # noqa: F401  (they register)
from handlers.groups.feature import feature

__all__ = ["feature"]
