"""The WeCom adapter on its own: the URL check, refused callbacks (bad signature, tampered
body, unknown user, unhandled types), replays handled once, the access token refreshed, and
WeCom's limits and errors in the outbox; and how replies are drawn as messages and cards."""

import secrets
import time
from datetime import UTC, datetime

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.config import ConfigError, load_settings
from bot.i18n import Renderer
from bot.outbox import Blocked, Failed, Throttled
from bot.runner import start
from bot.wecom.render import BUTTONS_PER_CARD, TEXT_BYTES, card_update, render, split_bytes
from bot.wecom.service import WeComService
from handlers.messages import Button, Msg, Reply
from handlers.notify import queue_to_members
from storage.models import PlatformAccount, ProcessedUpdate
from tests.chat import Chat, Clock
from tests.conftest import SECRET
from tests.fake_wecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComMember
from tests.fake_wecom import SECRET as WECOM_SECRET
from tests.platforms import Both, WeComUser, heard


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


async def bound(both: Both, clock: Clock, name: str = "党员甲") -> WeComUser:
    _, code = await Chat(both.services, clock).enrol(name)
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
    acked = Reply(
        Msg("quiz.letter", letter="通知"), ((Button(Msg("notice.acked_button"), "/ack 1"),),)
    )
    change, texts = card_update(acked, renderer)
    assert change == {"button": {"replace_name": "✅ 已收到"}} and not texts
    verdict = Reply(Msg("quiz.letter", letter="回答正确"))
    change, texts = card_update(verdict, renderer)
    assert change["button"]["replace_name"] == "已处理" and texts == ["回答正确"]


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
    with pytest.raises(ConfigError) as partial:
        load_settings(wecom_corp_id=CORP_ID)
    assert "WECOM_AGENT_ID" in partial.value.problem
    with pytest.raises(ConfigError) as short:
        load_settings(wecom_corp_id=CORP_ID, wecom_agent_id=1, wecom_secret="s",
                      wecom_token="t", wecom_aes_key="tooshort")  # fmt: skip
    assert "43" in short.value.problem


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
    await heard(user, "排行榜", since)
    answers = user.texts()[since:]
    assert "党员甲" in answers[0] and "排行榜" in answers[-1]
