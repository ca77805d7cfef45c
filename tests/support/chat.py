"""A conversation harness: push a message as a user, read back the rendered replies.

Drives the real router, storage and catalogs with no platform in sight (like Errbot's text
backend fixture); the end-to-end tests do the same over HTTP through the fake Bot API.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.app.services import Services
from handlers.account.members import NewMember, add_branch, add_member, issue_invite
from handlers.core.context import FileUnavailable
from handlers.core.incoming import Attachment, Incoming, Location
from handlers.core.messages import Reply
from storage import people
from storage.enums import Role, Stage
from storage.models import Branch


class Clock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


_update_ids = itertools.count(1)


@dataclass
class User:
    chat: "Chat"
    account_id: str
    platform: str = "telegram"
    chat_type: str = "private"
    replies: list[Reply] = field(default_factory=list)
    # The group chat this user writes in (None: their private chat with the bot).
    group: str | None = None

    def in_group(self, group_chat_id: str) -> "User":
        """The same person writing in a group chat."""
        return User(self.chat, self.account_id, self.platform, group=group_chat_id)

    async def send(
        self,
        text: str = "",
        *,
        callback: str | None = None,
        location: Location | None = None,
        update_key: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        reply_to: str | None = None,
        event: str | None = None,
        new_chat_id: str | None = None,
    ) -> list[Reply]:
        in_group = self.group is not None
        incoming = Incoming(
            platform=self.platform,
            account_id=self.account_id,
            chat_id=self.group or self.account_id,
            text=text,
            callback_data=callback,
            update_key=update_key or f"u{next(_update_ids)}",
            chat_type="group" if in_group else self.chat_type,
            display_name=f"user {self.account_id}",
            location=location,
            attachments=attachments,
            # In a group the bot reads commands and replies to its own messages (privacy mode).
            addressed=not in_group or text.startswith("/") or reply_to is not None,
            reply_to=reply_to,
            chat_title=f"群 {self.group}" if in_group else None,
            event=event,
            new_chat_id=new_chat_id,
        )
        self.replies = await self.chat.services.answer(incoming)
        return self.replies

    async def privately(self, text: str = "", **kwargs: object) -> str:
        """Send in a group a command answered in private: every reply goes to the sender's
        private chat; returns their texts."""
        replies = await self.send(text, **kwargs)  # type: ignore[arg-type]
        assert replies and all(r.chat == self.account_id for r in replies), replies
        render = self.chat.services.renderer.render
        return "\n".join(render(r.text) for r in replies if r.text is not None)

    async def say(self, text: str = "", **kwargs: object) -> str:
        """Send and return all reply texts joined, rendered in the default language."""
        replies = await self.send(text, **kwargs)  # type: ignore[arg-type]
        render = self.chat.services.renderer.render
        return "\n".join(render(r.text) for r in replies if r.text is not None)


class Chat:
    def __init__(self, services: Services, clock: Clock) -> None:
        self.services = services
        self.clock = clock
        self._accounts = itertools.count(1000)

    def serve_files(self, files: dict[str, bytes], platform: str = "telegram") -> None:
        """Let handlers fetch the bytes of files users send (by file_id), as a platform's
        getFile would; an unknown id is a file the platform cannot give."""

        async def fetch(_platform: str, attachment: Attachment, _limit: int) -> bytes:
            if attachment.file_id not in files:
                raise FileUnavailable(attachment.file_id)
            return files[attachment.file_id]

        self.services.files.register(platform, fetch)

    async def branch(self, name: str = "化学化工学院第一党支部") -> Branch:
        async with self.services.sessions() as session, session.begin():
            existing = await people.branch_by_name(session, name)
            if existing:
                return existing
            return await add_branch(session, self.services.box, name, self.clock())

    async def enrol(
        self,
        name: str,
        *,
        role: Role = Role.MEMBER,
        stage: Stage = Stage.FULL,
        remote_until: date | None = None,
        phone: str | None = None,
        branch: str = "化学化工学院第一党支部",
    ) -> tuple[int, str]:
        """Add a member with the domain functions; returns (member id, invite code)."""
        the_branch = await self.branch(branch)
        async with self.services.sessions() as session, session.begin():
            new = NewMember(
                name=name, role=role, stage=stage, remote_until=remote_until, phone=phone
            )
            member = await add_member(session, self.services.box, the_branch, new, self.clock())
            code = await issue_invite(
                session, self.services.box, member, self.clock(), timedelta(days=30)
            )
            return member.id, code

    def user(
        self,
        account_id: str | None = None,
        *,
        platform: str = "telegram",
        chat_type: str = "private",
    ) -> User:
        return User(self, account_id or str(next(self._accounts)), platform, chat_type)

    async def bind(self, code: str, *, platform: str = "telegram") -> User:
        """A new user who redeems the invite `code`."""
        user = self.user(platform=platform)
        reply = await user.say(f"/start {code}")
        assert "绑定成功" in reply, reply
        return user

    async def enrolled(
        self, name: str, *, platform: str = "telegram", **kwargs: object
    ) -> tuple[int, User]:
        """A new member called `name` and a user bound to them: (member id, user)."""
        member_id, code = await self.enrol(name, **kwargs)  # type: ignore[arg-type]
        return member_id, await self.bind(code, platform=platform)

    async def bound(self, name: str, **kwargs: object) -> User:
        """A user already bound to a new member called `name`."""
        _, user = await self.enrolled(name, **kwargs)  # type: ignore[arg-type]
        return user
