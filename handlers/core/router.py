"""The router: one update in, replies out, in one transaction with at-most-once handling.

It finds the command (slash form, Chinese alias or button), enforces who may use it, and turns
every failure into a short reply: UserErrors into their own message, anything else into an
incident number logged with the traceback. A failed handler's changes are rolled back and the
update is then recorded as handled on its own, so a redelivery does not fail twice.
"""

import difflib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.context import Context, DeepLinker, FileFetcher, Options, no_files, no_links
from handlers.core.group_answers import (
    answer_failure_in_group,
    answer_in_group,
    answer_reply_privately,
)
from handlers.core.incoming import GROUP_REPLY, Incoming
from handlers.core.messages import Msg, RecordedRefusal, Refused, Reply, UserError
from handlers.core.reading import Reading, read
from handlers.core.refusals import (
    Failed,
    Refusal,
    check_access,
    former_answer,
    readable_by_former,
    refusals_traced,
    why_no_caller,
)
from handlers.core.registry import Command, EventFn, Feature, Flow, LocationFn
from storage import groups, people, updates
from storage.crypto import SecretBox
from storage.driven import drive
from storage.models import Conversation, PlatformAccount
from storage.signals import AfterCommit

log = logging.getLogger(__name__)
# A multi-step command left unanswered this long is forgotten: the next message is read afresh.
FLOW_TTL = timedelta(minutes=30)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Handled:
    """What became of one update, for those watching the router (the service's metrics):
    `outcome` is handled, duplicate, refused (not the caller's to do), bad_input (a
    UserError: the work rolled back) or failed (an incident)."""

    platform: str
    outcome: str
    seconds: float
    replies: int  # answers the adapter sends straight back


class StoreUnavailable(Exception):
    """The database could not be reached (down, restarting, locked past the timeout): the
    update was not handled and nothing of it was recorded, so it may simply be tried again."""


def store_unreachable(err: BaseException, connecting: bool = True) -> bool:
    """Trouble reaching the database rather than a problem with what was asked of it. With
    `connecting`, also a bare OSError or timeout (asyncpg's refused connection is not
    wrapped); within a handler those are its own network calls' (a file fetched)."""
    if isinstance(err, DBAPIError):
        return err.connection_invalidated or isinstance(err, OperationalError | InterfaceError)
    return connecting and isinstance(err, OSError | TimeoutError)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Router:
    """Dispatches Incoming updates to the commands and flows of the given features."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        features: Sequence[Feature],
        options: Options | None = None,
        clock: Clock = utc_now,
        deep_link: DeepLinker = no_links,
        fetch_file: FileFetcher = no_files,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.options = options or Options()
        self.clock = clock
        self.deep_link = deep_link
        self.fetch_file = fetch_file
        # Called after an update's commit for each signal its transaction raised (see
        # on_commit): the outbox sender wakes, the scheduler plans changed meetings' jobs.
        self._on_commit: dict[AfterCommit, list[Callable[[], None]]] = {}
        self._on_handled: list[Callable[[Handled], None]] = []
        self.commands: list[Command] = []
        self.by_name: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}
        self.flows: dict[str, Flow] = {}
        self.location: LocationFn | None = None
        self.events: dict[str, EventFn] = {}
        for feature in features:
            for command in feature.commands:
                if command.name in self.by_name:
                    raise ValueError(f"command /{command.name} registered twice")
                self.commands.append(command)
                self.by_name[command.name] = command
                for alias in command.aliases:
                    if alias in self.aliases:
                        raise ValueError(f"alias {alias} registered twice")
                    self.aliases[alias] = command.name
            self.flows.update(feature.flows)
            for event, fn in feature.events.items():
                if event in self.events:
                    raise ValueError(f"event {event} handled twice")
                self.events[event] = fn
            if feature.location is not None:
                if self.location is not None:
                    raise ValueError("two features handle shared locations")
                self.location = feature.location

    def on_commit(self, signal: AfterCommit, hook: Callable[[], None]) -> None:
        """Call `hook` after every update whose committed transaction raised `signal`."""
        self._on_commit.setdefault(signal, []).append(hook)

    def on_handled(self, hook: Callable[[Handled], None]) -> None:
        """Call `hook` with what became of every update, once it is handled."""
        self._on_handled.append(hook)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one update; an update seen before returns no replies."""
        started = time.perf_counter()
        replies, outcome = await self._handle(incoming)
        seconds = time.perf_counter() - started
        handled = Handled(incoming.platform, outcome, seconds, len(replies))
        for hook in self._on_handled:
            try:
                hook(handled)
            except Exception:  # a watcher's trouble never costs the user their answer
                log.exception("on-handled hook failed for update %s", incoming.update_key)
        return replies

    async def _handle(self, incoming: Incoming) -> tuple[list[Reply], str]:
        """The replies, and what became of the update (see Handled)."""
        try:
            replies, raised, outcome = await self._transaction(incoming)
        except Failed as failed:
            await self._record_failed(incoming, failed.refused)
            return [answer_failure_in_group(incoming, failed.reply, self.deep_link)], failed.outcome
        except StoreUnavailable:
            raise
        except Exception as err:
            # The transaction itself failed: nothing was recorded. Without a database to
            # reach, the caller keeps the update and tries again (the inbox does); anything
            # else (a commit conflict) is an incident, answered now.
            if store_unreachable(err):
                raise StoreUnavailable(incoming.update_key) from err
            return [self._incident(incoming)], "failed"
        self._signal(incoming, raised)
        return replies, outcome

    def _signal(self, incoming: Incoming, raised: frozenset[AfterCommit]) -> None:
        """Call the after-commit hooks of the signals the committed transaction raised."""
        for signal in raised:
            for hook in self._on_commit.get(signal, ()):
                try:
                    hook()
                except Exception:  # committed already: a hook's trouble is only logged
                    log.exception("after-commit hook failed for update %s", incoming.update_key)

    async def _transaction(
        self, incoming: Incoming
    ) -> tuple[list[Reply], frozenset[AfterCommit], str]:
        """The update's replies, the signals its committed transaction raised (none for a
        duplicate) and its outcome.

        The whole update runs in one greenlet (storage/driven.py), so its dozen database
        calls do not each set one up. The session is committed and closed by hand, not by
        `async with` (whose exit closes it in a new task, a trip round the event loop during
        which the one SQLite connection is held from the next update). If cancelled here (a
        shutdown), closing rolls back."""
        return await drive(lambda: self._in_transaction(incoming))

    async def _in_transaction(
        self, incoming: Incoming
    ) -> tuple[list[Reply], frozenset[AfterCommit], str]:
        session = self.sessions()
        try:
            now = self.clock()  # one instant for the whole update
            if not await self._claim(session, incoming, now):
                log.info("skipping duplicate update %s", incoming.update_key)
                return [], frozenset(), "duplicate"
            account, conversation = await people.account_and_conversation(
                session, incoming.platform, incoming.account_id
            )
            reading = read(
                incoming,
                self._waiting_flow(conversation, now),
                self.by_name,
                self.aliases,
                self.options.max_text_length,
            )
            ctx = await self._context(session, incoming, now, account, conversation, reading)
            replies, outcome = await self._run(ctx, reading)
            await session.commit()
            return replies, AfterCommit.raised(session.info), outcome
        finally:
            await session.close()

    async def _claim(self, session: AsyncSession, incoming: Incoming, now: datetime) -> bool:
        if incoming.update_key is None:
            return True
        return await updates.claim(session, incoming.platform, incoming.update_key, now)

    async def _record_failed(self, incoming: Incoming, refused: Refusal | None) -> None:
        """After a rollback, still mark the update handled (its answer was already given),
        with the refusal it was, if any."""
        try:
            async with self.sessions() as session, session.begin():
                now = self.clock()
                if await self._claim(session, incoming, now) and refused is not None:
                    await refused.trace(session, self.box, now)
        except Exception:
            log.exception("could not record failed update %s", incoming.update_key)

    def _waiting_flow(self, conversation: Conversation | None, now: datetime) -> Flow | None:
        """The flow the chat is in the middle of, unless it went stale (see _live_flow)."""
        if conversation is None or now - conversation.updated_at > FLOW_TTL:
            return None
        return self.flows.get(conversation.flow)

    async def _context(
        self,
        session: AsyncSession,
        incoming: Incoming,
        now: datetime,
        account: PlatformAccount | None,
        conversation: Conversation | None,
        reading: Reading,
    ) -> Context:
        member = account.member if account is not None else None
        former = member is not None and readable_by_former(member, now, self.options)
        caller = member if member is not None and (member.active or former) else None
        # An untracked update (anonymous feedback) leaves the account as it was: a last-seen
        # time written now would say who sent what the update left behind.
        if account is not None and not reading.untracked:
            # Only a private chat is where personal messages to this member may go later.
            private_chat = incoming.chat_id if incoming.is_private else None
            people.touch_account(account, private_chat, now)
            if incoming.is_private:  # a write only when they switched apps
                await people.note_platform(session, account.member, account.platform, now)
        group = None
        if not incoming.is_private:
            group = await groups.bound_group(session, incoming.platform, incoming.chat_id)
        return Context(
            session=session,
            box=self.box,
            options=self.options,
            now=now,
            incoming=incoming,
            account=account,
            caller=caller,
            commands=self.commands,
            deep_link=self.deep_link,
            fetch_file=self.fetch_file,
            conversation=conversation,
            former=former,
            group=group,
        )

    async def _run(self, ctx: Context, reading: Reading) -> tuple[list[Reply], str]:
        """The handler's replies and outcome; a failure raises Failed so the transaction
        rolls back."""
        try:
            return await self._route(ctx, reading), "handled"
        except RecordedRefusal as refusal:  # commit: the refused attempt is itself recorded
            reply = answer_reply_privately(ctx, Reply(refusal.msg))
            return [answer_failure_in_group(ctx.incoming, reply, self.deep_link)], "refused"
        except Failed as failed:
            failed.reply = answer_reply_privately(ctx, failed.reply)
            raise
        except UserError as err:
            outcome = "refused" if isinstance(err, Refused) else "bad_input"
            raise Failed(answer_reply_privately(ctx, Reply(err.msg)), outcome=outcome) from err
        except Exception as err:
            if store_unreachable(err, connecting=False):  # rolled back: may be tried again
                raise StoreUnavailable(ctx.incoming.update_key) from err
            raise Failed(self._incident(ctx.incoming), outcome="failed") from err

    def _incident(self, incoming: Incoming) -> Reply:
        incident = secrets.token_hex(4)
        log.exception(
            "incident %s handling %s update %s from %s: %r",
            incident,
            incoming.platform,
            incoming.update_key,
            incoming.account_id,
            _redacted(incoming.callback_data or incoming.text),
        )
        return Reply(Msg("error.internal", incident=incident))

    async def _route(self, ctx: Context, reading: Reading) -> list[Reply]:
        inc = ctx.incoming
        if inc.event is not None:  # something that happened to a group chat
            handler = self.events.get(inc.event)
            return await refusals_traced(ctx, inc.event, handler(ctx)) if handler else []
        raw = inc.callback_data if inc.callback_data is not None else inc.text
        if len(raw) > self.options.max_text_length:
            raise UserError("error.too_long", length=len(raw), limit=self.options.max_text_length)
        text, parsed = reading.text, reading.parsed
        if not inc.is_private:
            return await self._in_group(ctx, text, parsed)
        if parsed is None or await self._answers_flow(ctx, text, parsed[1]):
            return await self._not_a_command(ctx, text)
        return await self._command(ctx, *parsed)

    async def _answers_flow(self, ctx: Context, text: str, args: str) -> bool:
        """In a multi-step command, a sentence that starts with a Chinese alias (收到，我会
        准时参加) is the step's answer; a slash command, a bare alias or one followed by a
        code or number (签到 123456) is still the command."""
        if text.startswith("/") or not args or args.isascii() or ctx.conversation is None:
            return False
        return await self._live_flow(ctx) is not None

    async def _in_group(
        self, ctx: Context, text: str, parsed: tuple[str, str] | None
    ) -> list[Reply]:
        """A group's message meant for the bot: a command (answered as it says, in_group) or
        a reply to one of its posts; other group chatter is not for the bot."""
        inc = ctx.incoming
        is_command = parsed is not None and (inc.addressed or inc.callback_data is not None)
        handler = self.events.get(GROUP_REPLY)
        # A reply to one of the bot's posts is first that post's business, unless it is a
        # slash command: 接龙 answering a roll-call joins it (it is also /jielong's alias).
        # A post that has nothing to say to it leaves it to be read as a command.
        if inc.reply_to is not None and handler is not None and text and text[0] != "/":
            replies = await refusals_traced(ctx, GROUP_REPLY, handler(ctx))
            if replies or not is_command:
                return await answer_in_group(ctx, None, replies, self.deep_link)
        if parsed is None or not is_command:
            return []
        replies = await self._command(ctx, *parsed)
        return await answer_in_group(ctx, self.by_name.get(parsed[0]), replies, self.deep_link)

    async def _command(self, ctx: Context, name: str, args: str) -> list[Reply]:
        command = self.by_name.get(name)
        if command is None:
            raise UserError("error.unknown_command", command=name, suggestion=self._suggest(name))
        await check_access(ctx, command)  # before ending a flow: a refusal keeps it
        if not command.keeps_flow:
            await ctx.end_flow()  # a new command leaves any unfinished one
        limit = command.max_args or self.options.max_args_length
        if len(args) > limit:
            raise UserError("error.args_too_long", limit=limit)
        return await refusals_traced(ctx, command.name, command.handler(ctx, args))

    async def _not_a_command(self, ctx: Context, text: str) -> list[Reply]:
        inc = ctx.incoming
        flow = await self._live_flow(ctx)
        if inc.location is not None and not text and (flow is None or not flow.takes_location):
            flow = None  # a location outside a flow that asks for one is a check-in
        if (
            flow is not None
            and ctx.conversation is not None
            and (text or inc.attachments or inc.location)
        ):
            state = ctx.conversation
            step = flow.step(ctx, state.step, dict(state.data), text)
            return await refusals_traced(ctx, flow.name, step)
        if ctx.caller is None:
            return [Reply(Msg(why_no_caller(ctx)))]
        if ctx.former:
            key, params = former_answer(ctx)
            return [Reply(Msg(key, **params))]
        if inc.callback_data is not None:  # a button of a step that is over
            return [Reply(Msg("error.stale_button"))]
        if inc.location is not None and self.location is not None:
            return await refusals_traced(ctx, "location", self.location(ctx, inc.location))
        if not text:
            key = "error.unsupported" if inc.location or inc.attachments else "error.empty"
            return [Reply(Msg(key))]
        return [Reply(Msg("error.unknown_text"))]

    async def _live_flow(self, ctx: Context) -> Flow | None:
        """The chat's unfinished flow, unless it went stale, was removed or is no longer
        allowed for the caller (e.g. after a change of role); such a flow is dropped."""
        if ctx.conversation is None:
            return None
        flow = self._waiting_flow(ctx.conversation, ctx.now)
        if flow is None or not flow.allows(ctx.role):
            await ctx.end_flow()
            return None
        return flow

    def _suggest(self, name: str) -> Msg | str:
        close = difflib.get_close_matches(name, list(self.by_name), n=1, cutoff=0.6)
        return Msg("error.suggestion", command=close[0]) if close else ""


def _redacted(text: str) -> str:
    """What an incident log may say of a message: its command word and length, never the
    rest (it may be a thought report, a comment or a phone number)."""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    shown = word if word.startswith("/") and len(word) <= 40 else "<text>"
    return f"{shown} ({len(text)} chars)"
