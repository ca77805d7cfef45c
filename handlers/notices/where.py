"""Where a notice goes: its recipients' private chats, the branch groups, or both (the default
when a group is bound). The one-line /broadcast takes the choice as a leading word."""

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import UserError
from handlers.notices.audience import Audience, Filter
from storage import branches, groups
from storage.group_models import BranchGroup
from storage.models import Notice


class Where(StrEnum):
    BOTH = "both"
    PRIVATE = "private"
    GROUP = "group"


# `/broadcast 仅群 明天…` and `/broadcast 仅私聊 明天…` (docs/notices.md).
WORDS = {
    "仅群": Where.GROUP,
    "只发群": Where.GROUP,
    "仅群聊": Where.GROUP,
    "仅私聊": Where.PRIVATE,
    "只发私聊": Where.PRIVATE,
    "仅私信": Where.PRIVATE,
}
# A leading word shaped like a choice (仅 or 只, short, about a chat) that is not one, such as
# 仅微信, is answered with the right form rather than sent as the notice's first word; a notice
# that merely begins 仅限党员… is not a choice.
_CHOICE_CHARS = frozenset("群私聊信")
_CHOICE_LENGTH = 5
# In Notice.audience: where the notice went (absent in notices from before groups: private).
KEY = "where"


def split_where(args: str) -> tuple[Where | None, str]:
    """The choice word leading the one-line form, if any, and the notice's text after it."""
    parts = args.split(maxsplit=1)
    first, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
    if first in WORDS:
        return WORDS[first], rest
    looks_like = (
        first[:1] in ("仅", "只")
        and len(first) <= _CHOICE_LENGTH
        and bool(_CHOICE_CHARS & set(first))
    )
    if looks_like and rest:
        raise UserError("broadcast.bad_where", word=first)
    return None, args


def where_of(notice: Notice) -> Where:
    return Where(notice.audience.get(KEY, Where.PRIVATE))


async def notice_groups(session: AsyncSession, audience: Audience) -> list[BranchGroup]:
    """The bound groups of the branches a notice addresses, and the school-wide groups when
    it addresses every branch; none for a list of members (a group of /segments): a post in
    the branch group would show everyone who was picked out."""
    if audience.filter == Filter.LISTED:
        return []
    wanted: list[int | None] = list(audience.branches)
    current = {b.id for b in await branches.current_branches(session)}
    if current and current <= set(audience.branches):
        wanted.append(None)
    return await groups.bound_groups(session, wanted)


def resolve(where: Where, found: list[BranchGroup], *, has_file: bool) -> Where:
    """The choice as it can be carried out: both with no group bound is private; only the
    group is refused with no group bound, and for a file (files go to private chats only)."""
    if where == Where.GROUP and has_file:
        raise UserError("broadcast.group_no_file")
    if found or where == Where.PRIVATE:
        return where
    if where == Where.GROUP:
        raise UserError("broadcast.no_group")
    return Where.PRIVATE
