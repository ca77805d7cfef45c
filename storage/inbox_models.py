"""The inbox table: updates a platform was told were received (HTTP 200, or the next
getUpdates offset) and that are not handled yet, so a process that dies does not lose them;
and what webhook was last registered with the platform."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class InboxUpdate(Base):
    """One accepted update, deleted once handled. While a process handles it, `claimed_by`
    names the process and `claimed_at` is renewed; a claim older than the lease is a dead
    process's, and any process may take the update over."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # The router's once-only key (processed_updates): a redelivered update is stored once.
    update_key: Mapped[str] = mapped_column(String(64))
    # One chat's updates are handled one after another, in `seq` order (Telegram's update_id;
    # 0 where the platform gives none, WeCom: then in the order received, `id`).
    chat_key: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The update as the platform sent it (JSON or XML), encrypted with the SecretBox: it may be
    # a thought report or a survey answer.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("platform", "update_key"),
        Index("ix_inbox_chat_order", "platform", "chat_key", "seq", "id"),
    )


class WebhookState(Base):
    """The webhook a process last registered with a platform, as a keyed fingerprint of its
    URL, secret and update kinds: the platform shows the URL but never the secret, and a
    process sets the webhook only when this or the URL it shows differs."""

    __tablename__ = "webhook_state"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]
