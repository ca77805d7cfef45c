"""The console adapter: chat with the bot in a terminal, over the same router and store.

Buttons are shown numbered ([1] 收到) and pressed by typing the number; files and images
the bot sends are saved under data/console/ and their paths printed.
"""

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import click

from bot.app.services import Services
from bot.channels.outbox import Failed, Outcome, Sent
from handlers.account.members import link_account
from handlers.core.incoming import Incoming
from handlers.core.messages import Button, Msg, Reply
from handlers.core.router import StoreUnavailable
from storage import people
from storage.files import private_dir, write_private
from storage.models import Member

PLATFORM = "console"


class ConsoleChat:
    """One person's side of a terminal conversation."""

    def __init__(self, services: Services, account_id: str, outbox: Path) -> None:
        self.services = services
        self.account_id = account_id
        self.outbox = outbox
        self.buttons: list[Button] = []
        self.last: list[Reply] = []  # the replies behind the latest printed lines

    async def send(self, line: str) -> list[str]:
        """Send a typed line (a number presses the matching button); returns printable lines."""
        callback = None
        if line.strip().isdigit() and 0 < int(line.strip()) <= len(self.buttons):
            callback = self.buttons[int(line.strip()) - 1].data
        incoming = Incoming(
            platform=PLATFORM,
            account_id=self.account_id,
            chat_id=self.account_id,
            text="" if callback else line,
            callback_data=callback,
        )
        try:
            replies = await self.services.answer(incoming)
        except StoreUnavailable:  # the demo's database file locked or gone: say so, go on
            return [self.services.renderer.render(Msg("console.store_unavailable"))]
        return self.show(replies)

    def show(self, replies: list[Reply]) -> list[str]:
        render = self.services.renderer.render
        lines: list[str] = []
        self.buttons = []
        self.last = replies
        for reply in replies:
            if reply.text is not None:
                lines.append(render(reply.text))
            for row in reply.buttons:
                labels = []
                for button in row:
                    self.buttons.append(button)
                    labels.append(f"[{len(self.buttons)}] {render(button.label)}")
                lines.append("  ".join(labels))
            if reply.file is not None:
                lines.append(f"📎 {self._save(reply.file.name, reply.file.content)}")
            if reply.image is not None:
                lines.append(f"🖼 {self._save(f'image-{id(reply)}.png', reply.image)}")
            if reply.forward is not None:  # a file held by a chat platform, not on this disk
                lines.append(f"📎 {reply.forward.file_name or reply.forward.kind}")
        return lines

    def _save(self, name: str, content: bytes) -> Path:
        # A /mydata export is a person's whole record: owner-only, like every export.
        path = private_dir(self.outbox) / Path(name).name
        write_private(path, content)
        return path


class ConsoleTransport:
    """Delivers queued messages (notices, reminders) to the console chats open in this
    process, printing them; their buttons can then be pressed in that chat."""

    def __init__(self, echo: Callable[[str], None] = click.echo) -> None:
        self.chats: dict[str, tuple[str, ConsoleChat]] = {}
        self.echo = echo
        self.delivered = 0

    def open(self, label: str, chat: ConsoleChat) -> None:
        self.chats[chat.account_id] = (label, chat)

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        if chat_id not in self.chats:
            return Failed("no console is open for this chat")
        label, chat = self.chats[chat_id]
        for line in chat.show([reply]):
            self.echo(f"  📨 {label} ◀ " + line.replace("\n", "\n    "))
        self.delivered += 1
        return Sent(f"console-{self.delivered}")


async def bind_console(services: Services, member: Member) -> str:
    """Operators with database access may speak as any member; the binding is traced."""
    account_id = f"member-{member.id}"
    async with services.sessions.begin() as session:
        if await people.account(session, PLATFORM, account_id) is None:
            now = services.router.clock()
            await link_account(
                session, services.box, member, PLATFORM, account_id, now, chat_id=account_id
            )
    return account_id


async def read_line(prompt: str) -> str:
    """input() in a daemon thread: Ctrl-C ends the program at once instead of waiting for
    a pending input() in the default executor to return."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        try:
            line = input(prompt)
        except BaseException as err:  # EOFError or KeyboardInterrupt, handed to the loop
            loop.call_soon_threadsafe(future.set_exception, EOFError(str(err)))
            return
        loop.call_soon_threadsafe(future.set_result, line)

    threading.Thread(target=read, daemon=True).start()
    return await future


async def interact(chat: ConsoleChat, prompt: str) -> None:
    """Read lines until EOF or /quit, printing the bot's answers."""
    while True:
        try:
            line = await read_line(prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line.strip() in {"/quit", "/exit", "退出"}:
            return
        if not line.strip():
            continue
        for text in await chat.send(line):
            print(text)
