"""A fake WeCom API server (gettoken, message/send, media/upload, update_template_card) that
records what it received and can answer as WeCom does when a token expired or a limit was
hit; and members who post callbacks to the bot encrypted exactly as WeCom builds them."""

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

CORP_ID = "wwfakecorp0001"
AGENT_ID = 1000002
SECRET = "fake-app-secret"
TOKEN = "faketoken123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom issues


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    token: str


@dataclass
class FakeWeCom:
    members: set[str] = field(default_factory=set)  # userids in the app's visible range
    calls: list[Call] = field(default_factory=list)
    tokens_issued: int = 0
    # errcodes to answer the next message/send calls with, in order (0: that call goes through).
    failures: list[int] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)
    _media: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))
    # The bytes of images members sent (WeComMember.image), served by media/get.
    media: dict[str, bytes] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def __aenter__(self) -> "FakeWeCom":
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def _valid(self, request: web.Request) -> dict[str, Any] | None:
        token = request.query.get("access_token", "")
        if token not in self._tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if self._tokens[token] < time.monotonic():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != CORP_ID or q.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = secrets.token_hex(8)
        self._tokens[token] = time.monotonic() + 7200
        self.tokens_issued += 1
        return web.json_response({"errcode": 0, "access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        problem = self._valid(request)
        body = await request.json()
        if problem:
            return web.json_response(problem)
        self.calls.append(Call("send", body, request.query["access_token"]))
        code = self.failures.pop(0) if self.failures else 0
        if code:
            return web.json_response({"errcode": code, "errmsg": "injected"})
        if body.get("agentid") != AGENT_ID:
            return web.json_response({"errcode": 40056, "errmsg": "invalid agentid"})
        if body.get("touser") not in self.members:
            return web.json_response(
                {"errcode": 81013, "errmsg": "user & party & tag all invalid",
                 "invaliduser": body.get("touser")}
            )  # fmt: skip
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": secrets.token_hex(6)})

    async def _upload(self, request: web.Request) -> web.Response:
        problem = self._valid(request)
        if problem:
            return web.json_response(problem)
        reader = await request.multipart()
        part = await reader.next()
        size = len(await part.read()) if part is not None else 0  # type: ignore[union-attr]
        media_id = f"media{next(self._media)}"
        self.calls.append(Call("upload", {"type": request.query.get("type"), "size": size,
                                          "media_id": media_id}, ""))  # fmt: skip
        return web.json_response({"errcode": 0, "type": request.query.get("type"),
                                  "media_id": media_id})  # fmt: skip

    async def _media_get(self, request: web.Request) -> web.Response:
        problem = self._valid(request)
        if problem:
            return web.json_response(problem)
        content = self.media.get(request.query.get("media_id", ""))
        if content is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        self.calls.append(Call("media_get", {"media_id": request.query["media_id"]}, ""))
        return web.Response(body=content, content_type="image/jpeg")

    async def _update(self, request: web.Request) -> web.Response:
        problem = self._valid(request)
        body = await request.json()
        if problem:
            return web.json_response(problem)
        self.calls.append(Call("update", body, ""))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # Inspection

    def sent_to(self, userid: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == "send" and c.body.get("touser") == userid]

    def texts_to(self, userid: str) -> list[str]:
        """Texts, and cards as their title and subtitle, in order."""
        out = []
        for body in self.sent_to(userid):
            if body["msgtype"] == "text":
                out.append(body["text"]["content"])
            elif body["msgtype"] == "template_card":
                card = body["template_card"]
                out.append(card["main_title"]["title"] + "\n" + card.get("sub_title_text", ""))
        return out

    def latest_card(self, userid: str) -> dict[str, Any] | None:
        cards = [
            b["template_card"] for b in self.sent_to(userid) if b["msgtype"] == "template_card"
        ]
        return cards[-1] if cards else None

    def updates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == "update"]

    async def wait_until(self, predicate: Any, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting; calls so far: {self.calls[-5:]}")
            await asyncio.sleep(0.01)


class WeComMember:
    """A member writing to the application: each message is posted to the bot's callback
    URL as WeCom would post it, encrypted and signed."""

    _ids = itertools.count(int(time.time()) * 1000)

    def __init__(self, callback_url: str, userid: str, http: aiohttp.ClientSession) -> None:
        self.url = callback_url
        self.userid = userid
        self.http = http
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)

    def xml(self, msgtype: str, fields: dict[str, str], msg_id: int | None = None) -> str:
        inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        ident = f"<MsgId>{msg_id if msg_id is not None else next(self._ids)}</MsgId>"
        if msgtype == "event":
            ident = ""
        return (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.userid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msgtype}]]></MsgType>"
            f"{inner}{ident}<AgentID>{AGENT_ID}</AgentID></xml>"
        )

    async def post(
        self,
        xml: str,
        *,
        tamper: bool = False,
        signature: str | None = None,
        stamp: str | None = None,
    ) -> int:
        nonce, stamp = secrets.token_hex(5), stamp or str(int(time.time()))
        envelope = self.crypto.encrypt_message(xml, nonce, stamp)
        sig = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
        if tamper:
            envelope = envelope.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA", 1)
        params = {"msg_signature": signature or sig, "timestamp": stamp, "nonce": nonce}
        async with self.http.post(self.url, params=params, data=envelope.encode()) as response:
            return response.status

    async def text(self, content: str, msg_id: int | None = None) -> int:
        return await self.post(self.xml("text", {"Content": content}, msg_id))

    async def location(self, latitude: float, longitude: float) -> int:
        fields = {"Location_X": str(latitude), "Location_Y": str(longitude), "Scale": "15",
                  "Label": "会场"}  # fmt: skip
        return await self.post(self.xml("location", fields))

    async def image(self, media_id: str) -> int:
        """An image message (its bytes put in the fake's `media` under media_id first)."""
        fields = {"PicUrl": f"http://example.invalid/{media_id}", "MediaId": media_id}
        return await self.post(self.xml("image", fields))

    async def press(self, key: str, task_id: str = "task") -> int:
        fields = {
            "Event": "template_card_event",
            "EventKey": key,
            "TaskId": task_id,
            "CardType": "button_interaction",
            "ResponseCode": secrets.token_hex(8),  # each press has its own
        }
        return await self.post(self.xml("event", fields))
