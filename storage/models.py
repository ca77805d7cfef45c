"""The database schema as typed SQLAlchemy models.

Change a model, then add an Alembic migration (see docs/architecture.md).
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import LeaveStatus, MeetingStatus, Role, Stage
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
    # A branch that no longer exists is archived, never deleted: its history stays, and
    # school-wide reports list it only for periods before this instant.
    archived_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(Integer)  # the branch it became part of


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
    # The chat app they last wrote to the bot from privately, and when they switched to it:
    # personal messages go there (DELIVER_TO=last). Written only on a switch, so a member
    # who stays on one app costs no write per message (PlatformAccount.last_seen_at is coarse).
    last_platform: Mapped[str | None] = mapped_column(String(16))
    last_platform_at: Mapped[datetime | None]
    # Grade and class (年级, 班级) pick a year's graduates; plain, as a school's lists are.
    grade: Mapped[str | None] = mapped_column(String(16))
    class_name: Mapped[str | None] = mapped_column(String(50))
    # The rest of the roster's personal fields (性别, 民族, 出生日期, 学历, 籍贯 …) as
    # encrypted JSON: personal data, never filtered on.
    profile_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A member who left (transferred out, graduated, 停止党籍, 出党, died) is inactive from
    # `left_on`, for `left_reason`; they keep /mydata until `access_until`.
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(16))
    access_until: Mapped[date | None] = mapped_column(Date)

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
    # Set when the platform refused a message because the user blocked the bot; cleared as
    # soon as they write again. Messages for a blocked account are recorded as undeliverable
    # instead of being sent.
    blocked_at: Mapped[datetime | None]

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
    kind: Mapped[str] = mapped_column(String(48))
    branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # Reads of a kind over a time window (the data-access rules); an account's actions.
        # member_id too, so per-member counts of a kind over a period (a school's scorecards)
        # are read from the index alone.
        Index("ix_traces_kind_at_member", "kind", "at", "member_id"),
        Index("ix_traces_actor_id", "actor_id", "id"),
        # A member's (or a branch's members') counts of some kinds over a period: the
        # scorecards read only those members' rows, however large the school.
        Index("ix_traces_member_kind_at", "member_id", "kind", "at"),
    )


class TraceHead(Base):
    """The chain's tip: locked by each append, so concurrent writers line up one by one."""

    __tablename__ = "trace_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(Text)


class ChainCheck(Base):
    """The last full walk of the chain (storage/chain.py), sealed with the key: what it
    verified, from when, and the first bad row it found. Reports walk only what came after."""

    __tablename__ = "chain_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    walked_at: Mapped[datetime]  # when the walk began: rows up to verified_id were sound then
    verified_id: Mapped[int] = mapped_column(BigInteger)
    verified_hash: Mapped[str] = mapped_column(String(64))
    bad_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32))
    seal: Mapped[str] = mapped_column(Text)


class WebLoginCode(Base):
    """An open web sign-in code of a secretary or admin (handlers/account/weblogin.py): a
    keyed hash, bound to the browser that asked for it, until it is used, expires or has been
    guessed wrong too often. In the database, so any service process can check it. A person may
    have several (one asked for on a phone, one on a laptop); none replaces another."""

    __tablename__ = "web_login_codes"
    __table_args__ = (Index("ix_web_login_codes_member_browser", "member_id", "browser"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # A keyed hash of the asking browser's random cookie: a guess from any other browser
    # never matches, so strangers cannot use up (or lock) the owner's code.
    browser: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    wrong: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class WebSignOut(Base):
    """A web session ended before its time (退出登录): its nonce, until the cookie would have
    expired anyway. In the database, so every process, and a restarted one, refuses it."""

    __tablename__ = "web_sign_outs"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to someone other than the current sender, queued in the transaction that
    caused it and sent later by the one outbox sender (see bot/channels/outbox.py)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # Anything that queues the same key twice sends once.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    to_group: Mapped[bool] = mapped_column(Boolean, default=False)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    # The Reply, encoded by handlers/core/payload.py; rendered in the reader's language when sent.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Its secrets (codes), encrypted with the SecretBox apart from the payload; erased once
    # the message is sent or given up, so no code rests in the outbox after it is delivered.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Lower goes first: a leave decision should not wait behind a college-wide notice.
    priority: Mapped[int] = mapped_column(SmallInteger, default=5)
    # pending -> sending -> sent | blocked | failed (or back to pending to retry)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(500))
    # How often it went out again after a crash left it in flight (a possible duplicate).
    resent: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_outbox_queue", "status", "due_at"),)


class Notice(Base):
    """A secretary's notice (通知) to part of a branch, or an admin's to several branches."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    # A document or photo the author sent with it: {"platform", "kind", "file_id", "file_name"}.
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who it went to, as chosen: {"branches": [ids], "filter": ..., "stage"/"notice": ...}, and
    # where: "where": "both" | "private" | "group" (the branch groups; absent before: private).
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    require_ack: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    summary_due_at: Mapped[datetime | None] = mapped_column(index=True)
    summary_sent_at: Mapped[datetime | None]
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None]

    author: Mapped[Member] = relationship(lazy="joined")


class NoticeRecipient(Base):
    """One member a notice was addressed to, its first delivery and their acknowledgement."""

    __tablename__ = "notice_recipients"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    # Its delivery is the outbox row with ref "notice:<id>", kind "notice" and this member;
    # no such row: the member had no chat account the bot could reach.
    acked_at: Mapped[datetime | None]
    # Where the 收到 was pressed: "private" (the member's own copy) or "group" (the branch
    # group's post); None for acknowledgements recorded before groups existed.
    acked_via: Mapped[str | None] = mapped_column(String(16))


class Meeting(Base):
    """One meeting (三会一课, 主题党日, ...); a recurring one is a row per occurrence."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a school-wide meeting, open to every branch (an admin's).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str | None] = mapped_column(String(100))
    online_link: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.SCHEDULED, index=True)
    # The check-in codes are TOTP over this (base32), so a forwarded code soon stops working.
    checkin_secret: Mapped[str] = mapped_column(String(64))
    checkin_opened_at: Mapped[datetime | None]
    # Which recurrence created it (None: a one-off), e.g. "monthly:last-fri".
    series: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # False until the scheduler has (re)made this meeting's reminder and check-in jobs.
    jobs_synced: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Who records the minutes (记录人), named by the secretary; None: the secretary does.
    recorder_id: Mapped[int | None] = mapped_column(Integer)


class Attendance(Base):
    """A member's check-in, excuse or absence at a meeting; one row per member and meeting."""

    __tablename__ = "attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    presence: Mapped[str] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str | None] = mapped_column(String(16))  # code, location, online
    at: Mapped[datetime]


class LeaveRequest(Base):
    """A member's request to be excused from a meeting, and the decision on it."""

    __tablename__ = "leave_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # Why they cannot come is personal (illness, family): Fernet-encrypted like phone
    # numbers; read and written through storage.meetings.leave_reason / new_leave.
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=LeaveStatus.PENDING)
    created_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(lazy="joined")


class Question(Base):
    """A quiz question in the bank; `code` is its stable name across imports and exports."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Letters ("ACD"), 对/错, or per blank its alternatives ("中央委员会|党中央委员会；…").
    answer: Mapped[str] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    difficulty: Mapped[int] = mapped_column(SmallInteger, default=1)
    explanation: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class Quiz(Base):
    """One round of questions for a member: the day's counted quiz, practice or 错题本."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # The member's branch when it was taken: the leaderboard of that branch counts it.
    branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    day: Mapped[date] = mapped_column(Date)  # in the configured time zone
    mode: Mapped[str] = mapped_column(String(12))
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    question_ids: Mapped[list[int]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the question being asked
    correct: Mapped[int] = mapped_column(Integer, default=0)
    # Options toggled so far on a multiple-choice question, e.g. "AC".
    selection: Mapped[str] = mapped_column(String(8), default="")
    asked_at: Mapped[datetime]  # when the current question was shown
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_quizzes_member_day", "member_id", "day"),
        # One counted round per member and day, whatever races (two processes, two taps).
        Index(
            "uq_quizzes_counted_day",
            "member_id",
            "day",
            unique=True,
            sqlite_where=text("counted"),
            postgresql_where=text("counted"),
        ),
    )


class QuizAnswer(Base):
    __tablename__ = "quiz_answers"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    given: Mapped[str] = mapped_column(String(300))
    correct: Mapped[bool] = mapped_column(Boolean)
    seconds: Mapped[float]
    at: Mapped[datetime]


class Mistake(Base):
    """A question in a member's 错题本 until they answer it right."""

    __tablename__ = "mistakes"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    misses: Mapped[int] = mapped_column(Integer, default=1)
    missed_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class Material(Base):
    """A study material (学习资料): text, a link or a document, with its jieba keywords."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: shared with every branch (an admin's or an imported school-wide folder).
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    # A document sent with it: {"platform", "kind", "file_id", "file_name"}.
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Search terms and their weighted counts (title words count more), computed once on add.
    terms: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # sha256 of title and body: importing the same folder twice adds nothing.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MaterialRead(Base):
    """A material shown to (pushed to) a member and whether they marked it 已学习."""

    __tablename__ = "material_reads"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), primary_key=True)
    pushed_at: Mapped[datetime | None]
    learned_at: Mapped[datetime | None]
