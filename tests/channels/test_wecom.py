"""The WeCom adapter on its own: the URL check, refused callbacks (bad signature, tampered
body, unknown user, unhandled types), replays handled once, the access token refreshed, and
WeCom's limits and errors in the outbox; and how replies are drawn as messages and cards."""

import asyncio
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app.settings import ConfigError, load_settings
from bot.channels.outbox import Blocked, Failed, Throttled
from bot.channels.wecom.render import BUTTONS_PER_CARD, TEXT_BYTES, card_update, render, split_bytes
from bot.channels.wecom.service import WeComService
from bot.serve import start
from handlers.core.i18n import Renderer
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import queue_to_members
from storage.enums import Role
from storage.models import OutboxMessage, PlatformAccount, ProcessedUpdate
from tests.conftest import SECRET
from tests.support.chat import Chat, Clock
from tests.support.fake_wecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComMember
from tests.support.fake_wecom import SECRET as WECOM_SECRET
from tests.support.platforms import Both, WeComUser, heard


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


async def bound(both: Both, clock: Clock, name: str = "党员甲", **kwargs: Any) -> WeComUser:
    _, code = await Chat(both.services, clock).enrol(name, **kwargs)
    user = WeComUser(both, f"wx{secrets.token_hex(4)}")
    await user.say(f"/start {code}")
    await heard(user, "绑定成功")
    return user


async def test_url_check_answers_the_echo_only_when_signed(both: Both) -> None:
    from wechatpy.enterprise.crypto import PrpCrypto
    from wechatpy.utils import to_text

    crypto_key = __import__("base64").b64decode(AES_KEY + "=")
    echo = to_text(PrpCrypto(crypto_key).encrypt("echo-12345", CORP_ID))
    stamp, nonce = str(int(time.time())), "n1"
    from wechatpy.crypto import _get_signature

    good = {"msg_signature": _get_signature(TOKEN, stamp, nonce, echo), "timestamp": stamp,
            "nonce": nonce, "echostr": echo}  # fmt: skip
    async with both.http.get(both.callback_url, params=good) as response:
        assert response.status == 200 and await response.text() == "echo-12345"
    async with both.http.get(both.callback_url, params={**good, "msg_signature": "0" * 40}) as r:
        assert r.status == 403


async def test_bad_signature_and_tampered_body_are_refused(both: Both, clock: Clock) -> None:
    user = await bound(both, clock)
    member = WeComMember(both.callback_url, user.account_id, both.http)
    before = len(user.texts())
    assert await member.post(member.xml("text", {"Content": "/me"}), signature="0" * 40) == 403
    assert await member.post(member.xml("text", {"Content": "/me"}), tamper=True) in (400, 403)
    async with both.http.post(both.callback_url, data=b"<xml>nonsense</xml>") as response:
        assert response.status in (400, 403)
    await both.wecom.wait_until(lambda: True, 0.3)
    assert len(user.texts()) == before  # nothing was processed


async def test_a_replayed_message_is_handled_once(both: Both, clock: Clock) -> None:
    user = await bound(both, clock)
    since = len(user.texts())
    for _ in range(3):  # WeCom retries the same MsgId when it did not hear back in time
        assert await user.member.text("/me", msg_id=424242) == 200
    await heard(user, "党员甲", since)
    await both.wecom.wait_until(lambda: True, 0.3)
    assert len(user.texts()) == since + 1
    async with both.services.sessions() as session:
        claimed = await session.scalar(
            select(func.count()).where(ProcessedUpdate.update_key == "424242")
        )
    assert claimed == 1


async def test_strangers_and_unhandled_types_get_a_clear_answer(both: Both) -> None:
    stranger = WeComUser(both, "stranger1")
    await stranger.say("你好")
    assert "绑定" in await heard(stranger, "邀请码")
    assert await stranger.member.post(stranger.member.xml("voice", {"MediaId": "m1"})) == 200
    await heard(stranger, "邀请码", 1)


async def test_expired_token_is_replaced_and_the_message_still_goes(
    both: Both, clock: Clock
) -> None:
    user = await bound(both, clock)
    issued = both.wecom.tokens_issued
    both.wecom.expire_tokens()
    since = len(user.texts())
    await user.say("/me")
    await heard(user, "党员甲", since)
    assert both.wecom.tokens_issued == issued + 1


async def test_outbox_maps_wecom_errors(both: Both, clock: Clock) -> None:
    user = await bound(both, clock)
    service = WeComService(both.services)
    note = Reply(Msg("quiz.reminder"))
    try:
        both.wecom.failures = [45009]  # over the frequency limit or the daily quota
        assert isinstance(await service.transport.deliver(user.account_id, note), Throttled)
        outside = await service.transport.deliver("not-in-scope", note)
        assert isinstance(outside, Blocked)
        both.wecom.failures = [40008]  # a message WeCom cannot take: no retry
        refused = await service.transport.deliver(user.account_id, note)
        assert isinstance(refused, Failed) and refused.permanent
        both.wecom.failures = [-1]  # WeCom busy: retried later
        busy = await service.transport.deliver(user.account_id, note)
        assert isinstance(busy, Failed) and not busy.permanent
    finally:
        await service.close()


async def test_a_member_outside_the_visible_range_is_not_said_to_block_the_bot(
    both: Both, clock: Clock
) -> None:
    """WeCom's 81013 makes the row blocked, as Telegram's 403 does, but the secretary reads
    the reason true on WeCom: the member is outside the application's visible range."""
    secretary = await bound(both, clock, "书记", role=Role.SECRETARY)
    member = await bound(both, clock)
    both.wecom.members.discard(member.account_id)  # taken out of the application's range
    await secretary.say("/broadcast 周五下午主题党日")
    await heard(secretary, "通知 #1 已开始发送")
    for _ in range(100):
        async with both.services.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
        if row is not None and row.status == "blocked":
            break
        await asyncio.sleep(0.05)
    since = len(secretary.texts())
    await secretary.say("/notice_status 1")
    status = await heard(secretary, "无法送达", since)
    assert "党员甲（不在应用可见范围）" in status and "屏蔽" not in status
    await secretary.say("/broadcast 周六志愿服务")
    reply = await heard(secretary, "通知 #2 已开始发送", since)
    assert "其中 1 人未绑定账号或不在应用可见范围，收不到" in reply


async def test_a_throttled_message_goes_after_the_pause(both: Both, clock: Clock) -> None:
    user = await bound(both, clock)
    async with both.services.sessions.begin() as session:
        account = await session.scalar(
            select(PlatformAccount).where(PlatformAccount.external_id == user.account_id)
        )
        assert account is not None
        both.wecom.failures = [45033]  # too many at once: a short pause, then it goes
        reply = Reply(Msg("quiz.reminder"))
        await queue_to_members(
            session, [account.member_id], reply, key="t", kind="test", now=clock()
        )
    both.sender.wake()
    assert "每日答题" in await heard(user, "每日答题", seconds=15)
    assert any(c.body.get("touser") == user.account_id for c in both.wecom.calls[-2:])


def test_long_text_is_split_by_bytes_and_buttons_go_on_cards() -> None:
    renderer = Renderer()
    long = "\n".join(f"第{i}行：" + "党" * 100 for i in range(20))
    pieces = split_bytes(long)
    assert (
        all(len(p.encode()) <= TEXT_BYTES for p in pieces) and "".join(pieces).count("党") == 2000
    )
    buttons = tuple((Button(Msg("quiz.letter", letter=c), f"/qa 1 1 {c}"),) for c in "ABCDEFGH")
    shown = render(Reply(Msg("quiz.letter", letter=long), buttons), renderer)
    assert shown.texts and len(shown.cards) == 2
    assert [len(c["button_list"]) for c in shown.cards] == [BUTTONS_PER_CARD, 2]
    short = render(Reply(Msg("quiz.letter", letter="标题\n一句话"), buttons[:2]), renderer)
    assert not short.texts and short.cards[0]["main_title"]["title"] == "标题"
    assert short.cards[0]["sub_title_text"] == "一句话"


def test_a_clicked_card_shows_the_edit() -> None:
    renderer = Renderer()
    notice = Msg("quiz.letter", letter="通知")
    sent = render(Reply(notice, ((Button(Msg("notice.ack_button"), "/ack 1"),),)), renderer)
    acked = Reply(notice, ((Button(Msg("notice.acked_button"), "/ack 1"),),))
    update = card_update(acked, renderer, sent.cards[0]["task_id"])
    assert update.change == {"button": {"replace_name": "✅ 已收到"}} and not update.texts
    verdict = Reply(Msg("quiz.letter", letter="回答正确"))
    update = card_update(verdict, renderer, sent.cards[0]["task_id"])
    assert update.change["button"]["replace_name"] == "已处理" and update.texts == ["回答正确"]


def test_a_step_with_one_button_keeps_its_question() -> None:
    """The guided meeting form: after the kind is pressed, the card asks 会议时间？ with one
    button (取消); the card must show the question, not turn into a grey 取消 label."""
    renderer = Renderer()
    kinds = render(Reply(Msg("meeting.ask_kind"), ((Button(Msg("kind.lecture"), "k"),),) * 2),
                   renderer)  # fmt: skip
    cancel = ((Button(Msg("broadcast.cancel_button"), "/cancel"),),)
    step = Reply(Msg("meeting.ask_when"), cancel, edit=True)
    update = card_update(step, renderer, kinds.cards[0]["task_id"])
    card = update.change["template_card"]
    assert card["main_title"]["title"].startswith("会议时间？")
    assert [b["key"] for b in card["button_list"]] == ["/cancel"] and not update.resend
    # A new question too long for a card: the pressed card is marked handled, and the
    # question goes out whole as new messages (with its button), nothing cut away.
    long = Reply(Msg("quiz.letter", letter="问题" * 40 + "\n" + "说明" * 200), cancel, edit=True)
    update = card_update(long, renderer, kinds.cards[0]["task_id"])
    assert update.change == {"button": {"replace_name": "已处理"}} and update.resend
    # No task id known (a card from before this rule): its text is not assumed unchanged.
    assert "template_card" in card_update(step, renderer, "").change


async def test_the_meeting_form_on_wecom_shows_each_question(both: Both, clock: Clock) -> None:
    secretary = await bound(both, clock, "书记", role=Role.SECRETARY)
    await secretary.say("/meeting_new")

    def kinds() -> list[dict[str, Any]]:
        sent = both.wecom.sent_to(secretary.account_id)
        cards = [m["template_card"] for m in sent if m["msgtype"] == "template_card"]
        return [c for c in cards if any("kind:" in b["key"] for b in c["button_list"])]

    await both.wecom.wait_until(lambda: bool(kinds()))
    card = kinds()[-1]
    assert await secretary.member.press(card["button_list"][3]["key"], card["task_id"]) == 200
    await both.wecom.wait_until(lambda: bool(both.wecom.updates()))
    card = both.wecom.updates()[-1]["template_card"]
    assert card["main_title"]["title"].startswith("会议时间？")


def test_a_card_under_a_long_text_has_a_meaningful_title() -> None:
    """A long meeting announcement goes as text, then its card: the card's title is the
    announcement's lead-in, not its first line cut at 36 characters."""
    renderer = Renderer()
    line = (
        "📅 新会议：#12 主题党日「深入学习贯彻党的二十届三中全会精神」2026-12-01 14:30，化工楼301"
    )
    leave = ((Button(Msg("meeting.leave_button"), "/leave 12"),),)
    shown = render(Reply(Msg("quiz.letter", letter=line + "\n不能参加请点“请假”。"), leave),
                   renderer)  # fmt: skip
    assert shown.texts and shown.cards[0]["main_title"]["title"] == "📅 新会议"
    notice = "📢 通知 #3\n\n" + "周五开会。" * 60
    shown = render(Reply(Msg("quiz.letter", letter=notice), leave), renderer)
    assert shown.cards[0]["main_title"]["title"] == "📢 通知 #3"
    unbroken = "党" * 80 + "\n" + "说明" * 100  # no place to cut: a prompt, not a stub
    shown = render(Reply(Msg("quiz.letter", letter=unbroken), leave), renderer)
    assert shown.cards[0]["main_title"]["title"] == "请就上面的消息选择"


async def test_branchbot_run_serves_wecom_alone(database_url: str) -> None:
    async with FakeWeCom() as fake:
        settings = load_settings(
            database_url=database_url,
            secret_key=SECRET,
            listen_port=0,
            wecom_corp_id=CORP_ID,
            wecom_agent_id=AGENT_ID,
            wecom_secret=WECOM_SECRET,
            wecom_token=TOKEN,
            wecom_aes_key=AES_KEY,
            wecom_base_url=fake.base_url,
        )
        running = await start(settings)
        try:
            assert running.telegram is None and running.wecom is not None
            url = f"http://127.0.0.1:{running.port}/wecom/callback"
            fake.members.add("zhangsan")
            async with aiohttp.ClientSession() as http:
                member = WeComMember(url, "zhangsan", http)
                assert await member.text("/help") == 200
                await fake.wait_until(lambda: bool(fake.texts_to("zhangsan")))
            assert "邀请码" in fake.texts_to("zhangsan")[-1]
        finally:
            await running.stop()
        wrong = settings.model_copy(update={"wecom_secret": SecretStr("wrong")})
        with pytest.raises(ConfigError) as refused:
            await start(wrong)
        assert refused.value.variable == "BRANCHBOT_WECOM_SECRET"


def test_wecom_settings_come_together() -> None:
    """Each configuration error names its own setting (not, as before, WEBHOOK_SECRET)."""
    whole = {"wecom_corp_id": CORP_ID, "wecom_agent_id": 1, "wecom_secret": "s",
             "wecom_token": "t", "wecom_aes_key": AES_KEY}  # fmt: skip
    with pytest.raises(ConfigError) as partial:
        load_settings(wecom_corp_id=CORP_ID)
    assert partial.value.variable == "BRANCHBOT_WECOM_AGENT_ID"
    with pytest.raises(ConfigError) as no_token:
        load_settings(**{**whole, "wecom_token": ""})
    assert no_token.value.variable == "BRANCHBOT_WECOM_TOKEN"
    with pytest.raises(ConfigError) as short:
        load_settings(**{**whole, "wecom_aes_key": "tooshort"})
    assert short.value.variable == "BRANCHBOT_WECOM_AES_KEY" and "43" in short.value.problem
    with pytest.raises(ConfigError) as webhook:
        load_settings(webhook_url="https://bot.example.edu.cn/tg")
    assert webhook.value.variable == "BRANCHBOT_WEBHOOK_SECRET"
    with pytest.raises(ConfigError) as unset:
        load_settings().require_wecom()
    assert unset.value.variable == "BRANCHBOT_WECOM_CORP_ID"


async def test_events_nobody_wrote_get_no_answer_and_old_posts_are_refused(
    both: Both, clock: Clock
) -> None:
    user = await bound(both, clock)
    since = len(user.texts())
    opened = user.member.xml("event", {"Event": "enter_agent", "EventKey": ""})
    assert await user.member.post(opened) == 200
    stale = str(int(time.time()) - 3600)  # a captured post replayed an hour later
    assert await user.member.post(user.member.xml("text", {"Content": "/me"}), stamp=stale) == 403
    await both.wecom.wait_until(lambda: True, 0.3)
    assert len(user.texts()) == since


async def test_one_members_messages_are_answered_in_order(both: Both, clock: Clock) -> None:
    user = await bound(both, clock)
    since = len(user.texts())
    for text in ("/me", "/help", "/rank"):
        assert await user.member.text(text) == 200
    await heard(user, "🏆 本支部答题排行榜", since)  # the board, not /help's line about it
    answers = user.texts()[since:]
    assert "党员甲" in answers[0] and "🏆 本支部答题排行榜" in answers[-1]
    assert sum("/rank" in a for a in answers[1:-1]) == 1, "/help, in one piece or more, between"


def _signed(plain: bytes) -> tuple[dict[str, str], bytes]:
    """A callback body as WeCom would sign and encrypt it, around any plaintext bytes."""
    import base64

    from wechatpy.crypto import _get_signature
    from wechatpy.enterprise.crypto import PrpCrypto

    encrypt = PrpCrypto(base64.b64decode(AES_KEY + "=")).encrypt(plain, CORP_ID).decode()
    stamp, nonce = str(int(time.time())), secrets.token_hex(5)
    body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID>{AGENT_ID}</AgentID></xml>"  # noqa: E501
    params = {"msg_signature": _get_signature(TOKEN, stamp, nonce, encrypt), "timestamp": stamp,
              "nonce": nonce}  # fmt: skip
    return params, body.encode()


async def test_a_garbled_callback_is_refused_without_its_content_in_the_log(
    both: Both, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed correctly but garbled: the log says what was wrong, never what was inside
    (the user id and the words), whichever step refuses it."""
    caplog.set_level(logging.DEBUG)
    user = await bound(both, clock)
    words = "TOPSECRET-42"
    xml = user.member.xml("text", {"Content": words}).encode()
    half_text = xml.replace(words.encode(), words.encode() + b"\xff")  # not UTF-8 half-way
    location = user.member.xml("location", {"Location_X": words, "Location_Y": "1"}).encode()
    statuses = []
    for plain in (half_text, location):
        params, body = _signed(plain)
        async with both.http.post(both.callback_url, params=params, data=body) as response:
            statuses.append(response.status)
    assert statuses == [400, 200]  # refused; and acknowledged, as WeCom must not resend it
    refused = [r for r in caplog.records if r.name == "bot.channels.wecom.service"]
    assert len(refused) == 2 and all(r.levelno == logging.WARNING for r in refused)
    logged = caplog.text
    assert words not in logged and user.account_id not in logged
    assert "UnicodeDecodeError" in logged and "ValueError" in logged


async def test_a_direct_answer_is_retried_when_wecom_is_busy(both: Both, clock: Clock) -> None:
    """As on Telegram: a busy WeCom (-1) is asked again, and the member gets the answer."""
    user = await bound(both, clock)
    tries = len(both.wecom.sent_to(user.account_id))
    both.wecom.failures = [-1, -1]  # busy twice; the third try goes through
    await user.say("/me")
    await both.wecom.wait_until(lambda: len(both.wecom.sent_to(user.account_id)) == tries + 3)
    assert "党员甲" in user.texts()[-1] and not both.wecom.failures


async def test_a_queued_text_and_card_both_arrive_once(both: Both, clock: Clock) -> None:
    """A long notice goes as a text, then its 收到 card. The card fails (too many calls at
    once, then busy): the row is not counted sent, and each retry sends only the card."""
    user = await bound(both, clock)
    async with both.services.sessions.begin() as session:
        account = await session.scalar(
            select(PlatformAccount).where(PlatformAccount.external_id == user.account_id)
        )
        assert account is not None
        text = "📢 通知 #1\n\n" + "请各位党员周五下午到化工楼301开会。" * 30
        notice = Reply(Msg("quiz.letter", letter=text),
                       ((Button(Msg("notice.ack_button"), "/ack 1"),),))  # fmt: skip
        both.wecom.failures = [0, 45033, -1]
        await queue_to_members(
            session, [account.member_id], notice, key="n1", kind="notice", now=clock()
        )
    row = None
    for _ in range(150):  # the test clock stands still: move it past each retry's due time
        async with both.services.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
        if row is not None and row.status in ("sent", "failed", "blocked"):
            break
        clock.advance(seconds=10)
        both.sender.wake()
        await asyncio.sleep(0.1)
    assert row is not None and row.status == "sent" and row.attempts == 1
    sent = [c.body for c in both.wecom.calls if c.body.get("touser") == user.account_id]
    assert sum("请各位党员" in b.get("text", {}).get("content", "") for b in sent) == 1
    cards = [b for b in sent if b["msgtype"] == "template_card"]
    assert len(cards) == 3  # refused, busy, delivered: the same card each time
