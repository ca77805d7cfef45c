"""Reply objects out as Telegram calls: messages, edits, photos, documents, inline keyboards."""

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from bot.channels.direct import call_retried
from handlers.core.i18n import Renderer
from handlers.core.messages import Reply

log = logging.getLogger(__name__)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
TOAST_LIMIT = 200  # characters of a button press's answer
TOAST_SHORT = 60  # longer answers are shown as an alert the presser closes


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut long text into messages at line breaks where possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return chunks


def keyboard(reply: Reply, renderer: Renderer) -> InlineKeyboardMarkup | None:
    rows = []
    for row in reply.buttons:
        buttons = []
        for button in row:
            if button.url is None and len(button.data.encode()) > CALLBACK_LIMIT:
                # The command word only: the rest may carry what someone typed.
                command = button.data.split(maxsplit=1)[0] if button.data.strip() else ""
                log.error("button data too long for Telegram, dropped: %s …", command[:32])
                continue
            label = renderer.render(button.label)
            if button.url is not None:
                buttons.append(InlineKeyboardButton(label, url=button.url))
                continue
            buttons.append(InlineKeyboardButton(label, callback_data=button.data))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


async def _edit(bot: Bot, update: Update, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    query = update.callback_query
    if query is None or query.message is None:
        return False
    chat_id, message_id = query.message.chat.id, query.message.message_id
    try:
        if getattr(query.message, "text", None) is None:
            # A photo or document: its caption stays, only the buttons change.
            await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
        else:
            await bot.edit_message_text(
                text[:TEXT_LIMIT], chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
    except BadRequest as err:
        if "not modified" in str(err).lower():
            return True
        # Too old, deleted, or not ours to edit: the answer goes out as a new message.
        log.info(
            "could not edit message %s in chat %s (%s); sending anew", message_id, chat_id, err
        )
        return False
    return True


Call = Callable[[Callable[[], Awaitable[Message]]], Awaitable[Message]]


async def post(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    text: str,
    markup: InlineKeyboardMarkup | None,
    call: Call,
) -> Message | None:
    """Send a reply as a new message (or several, for long text); the last one is returned.
    `call` wraps each Bot API call: retried for a direct answer, bare for the outbox."""
    caption = text[:CAPTION_LIMIT] or None
    if reply.image is not None:
        image = reply.image
        return await call(
            lambda: bot.send_photo(chat_id, image, caption=caption, reply_markup=markup)
        )
    if reply.file is not None:
        file = reply.file
        return await call(
            lambda: bot.send_document(
                chat_id, file.content, filename=file.name, caption=caption, reply_markup=markup
            )
        )
    if reply.forward is not None:
        handle = reply.forward.file_id
        method = bot.send_photo if reply.forward.kind == "photo" else bot.send_document
        return await call(lambda: method(chat_id, handle, caption=caption, reply_markup=markup))
    last = None
    if text:
        chunks = split_text(text)
        for index, chunk in enumerate(chunks):
            keys = markup if index == len(chunks) - 1 else None
            last = await call(partial(bot.send_message, chat_id, chunk, reply_markup=keys))
    return last


async def _send_one(
    bot: Bot, update: Update, chat_id: int, reply: Reply, renderer: Renderer
) -> None:
    text = renderer.render(reply.text) if reply.text is not None else ""
    markup = keyboard(reply, renderer)
    if reply.edit and await _edit(bot, update, text, markup):
        return
    await post(bot, chat_id, reply, text, markup, _call)


def _transient(err: BaseException) -> bool:
    """5xx and dropped connections are worth another try. Refusals are not, and neither is a
    timeout: Telegram may have delivered the message, and a duplicate is worse than a delay."""
    return isinstance(err, NetworkError) and not isinstance(err, BadRequest | TimedOut)


async def _call(request: Callable[[], Awaitable[Message]]) -> Message:
    """One Bot API call of a direct answer, retried by the shared policy
    (bot/channels/direct.py)."""
    return await call_retried(request, _transient)


async def _answer_press(update: Update, replies: list[Reply], renderer: Renderer) -> None:
    """Answer the button press: with the reply meant for the presser's screen, if any (a
    long one as an alert they close; with a link, pressing opens it)."""
    query = update.callback_query
    if query is None:
        return
    toast = next((r for r in replies if r.toast), None)
    text = renderer.render(toast.text) if toast is not None and toast.text is not None else None
    try:
        await query.answer(
            text[:TOAST_LIMIT] if text else None,
            show_alert=bool(text and len(text) > TOAST_SHORT),
            url=toast.link if toast is not None else None,
        )
    except TelegramError as err:
        log.info("could not answer callback query: %s", err)


async def send_replies(bot: Bot, update: Update, replies: list[Reply], renderer: Renderer) -> None:
    """Answer the button press (if any), then send each reply in order, to its own chat when
    it names one (a personal answer to a command sent in a group)."""
    chat = update.effective_chat
    await _answer_press(update, replies, renderer)
    if chat is None:
        return
    for reply in replies:
        if reply.toast:
            continue
        target = int(reply.chat) if reply.chat is not None else chat.id
        try:
            await _send_one(bot, update, target, reply, renderer)
        except Forbidden:
            log.info("chat %s has blocked the bot; reply dropped", target)
            if target == chat.id:
                return
        except TelegramError as err:
            log.warning("reply to chat %s failed: %s", target, err)
