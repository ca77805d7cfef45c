"""Tables of the branch's group chats (支部群): which chat is bound to which branch, the bot's
posts there that change in place (a notice's 收到 count, a roll-call's list), and roll-calls
(接龙). A group never holds anyone's record: only counts and the names people add themselves."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class BranchGroup(Base):
    """A group chat bound to a branch (None: a school-wide group). Unbinding keeps the row
    (bound_at/unbound_at say when it served), so old posts and traces still name it."""

    __tablename__ = "branch_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Telegram: the chat id (a supergroup's after migration); WeCom: the app chat's chatid;
    # a WeCom group robot has no chat id of its own: "robot:<n>".
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # chat | appchat | robot
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    bound_by: Mapped[int | None] = mapped_column(Integer)
    bound_at: Mapped[datetime]
    unbound_at: Mapped[datetime | None]
    unbound_reason: Mapped[str | None] = mapped_column(String(32))  # command | removed
    # Post the week's highlights here (Monday morning): leaderboard and branch rates only.
    highlights: Mapped[bool] = mapped_column(Boolean, default=False)
    # A WeCom group robot's webhook address, encrypted: whoever has it can post to the group.
    robot_url_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    @property
    def bound(self) -> bool:
        return self.unbound_at is None


class GroupPost(Base):
    """A message of the bot's in a group whose content follows live state: rendered when it is
    sent and edited in place when the state changes (handlers/groups/live.py). Its first
    message is the outbox row `outbox_key`; each edit is a row keyed by `edits`, so changes
    while an edit waits fold into that one edit."""

    __tablename__ = "group_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("branch_groups.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # notice | rollcall | meeting_code
    ref: Mapped[str] = mapped_column(String(100), index=True)  # "notice:12", "rollcall:3"
    outbox_key: Mapped[str] = mapped_column(String(160), unique=True)
    edits: Mapped[int] = mapped_column(Integer, default=0)  # edits taken up by the sender
    created_at: Mapped[datetime]


class RollCall(Base):
    """A roll-call (接龙) posted in a group: members add themselves with a button or a reply."""

    __tablename__ = "roll_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("branch_groups.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    capacity: Mapped[int | None] = mapped_column(Integer)
    # What it pre-registers for, if anything: "meeting:12" or a volunteer activity's name.
    attached_to: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]


class RollCallEntry(Base):
    """One member on a roll-call; leaving it keeps the row (withdrawn_at), as everything does."""

    __tablename__ = "roll_call_entries"

    roll_call_id: Mapped[int] = mapped_column(ForeignKey("roll_calls.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    joined_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    # The order people joined in (the list's numbering), given at joining.
    position: Mapped[int] = mapped_column(Integer)
