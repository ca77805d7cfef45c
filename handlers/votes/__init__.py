"""Votes (表决) at a branch's general assembly (支部党员大会) on a person's admission as a
probationary member or conversion to full member, on an unlinkable ballot box."""

from handlers.votes import chat  # noqa: F401  (its commands register)
from handlers.votes.feature import feature

__all__ = ["feature"]
