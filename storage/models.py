"""The database schema as typed SQLAlchemy models.

Change a model, then add an Alembic migration (see README, "Development").
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import Role, Stage
from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLAlchemy reads this class attribute; it is never mutated.
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}  # noqa: RUF012


class Branch(Base):
    """A grassroots Party branch (党支部)."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    college: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Member(Base):
    """A person the bot knows: a member, someone in the pipeline, a secretary or an admin."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    staff_no: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.FULL)
    remote_until: Mapped[date | None] = mapped_column(Date)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Sensitive personal data, Fernet-encrypted with the configured SECRET_KEY.
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    branch: Mapped[Branch | None] = relationship(lazy="joined")
    # Loaded on demand (`await member.awaitable_attrs.accounts`): most updates never need it.
    accounts: Mapped[list["PlatformAccount"]] = relationship(back_populates="member")

    __table_args__ = (Index("ix_members_branch_name", "branch_id", "name"),)

    def is_remote_on(self, day: date) -> bool:
        """An intern on placement is remote until (and including) their end date."""
        return self.remote_until is not None and day <= self.remote_until


class PlatformAccount(Base):
    """A chat account (Telegram user, WeCom userid, console) bound to a member."""

    __tablename__ = "platform_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    chat_id: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))
    bound_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(back_populates="accounts", lazy="joined")

    __table_args__ = (UniqueConstraint("platform", "external_id"),)


class InviteCode(Base):
    """A one-time code that binds a chat account to a member. Only its hash is stored."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessedUpdate(Base):
    """Platform updates already handled, so a redelivered update has no second effect."""

    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class Conversation(Base):
    """The step a multi-step command is waiting on, per chat account; survives restarts."""

    __tablename__ = "conversations"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class Trace(Base):
    """One recorded action (留痕). Append-only; each row's hash covers the previous row's."""

    __tablename__ = "traces"

    # Assigned from TraceHead under a lock, so ids are gapless and a deleted row shows.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class TraceHead(Base):
    """The chain's tip: locked by each append, so concurrent writers line up one by one."""

    __tablename__ = "trace_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(Text)
