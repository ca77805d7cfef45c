"""A fake WeCom API server (gettoken, message/send, media/upload, update_template_card, the
application chats' appchat/create, update, get and send, and group robots' webhook) that
records what it received and can answer as WeCom does when a token expired or a limit was
hit; and members who post callbacks to the bot encrypted exactly as WeCom builds them."""

import asyncio
import itertools
import re
import secrets
import time
from collections import deque
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
ROBOT_PER_MINUTE = 20  # messages a group robot may post in any 60 seconds
# What appchat/send takes (no template cards: a group chat has no buttons).
CHAT_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "textcard", "news",
                           "mpnews", "markdown"})  # fmt: skip
_CHAT_ID = re.compile(r"[0-9A-Za-z]{1,32}")


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
    # Application chats by chatid: {"name", "owner", "userlist"}; what each was sent.
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    chat_sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # errcodes to answer the next appchat create/update/send calls with (0: it goes through).
    appchat_failures: list[int] = field(default_factory=list)
    # Group robots: the keys of robots in some group, what each posted, injected errcodes.
    robot_keys: set[str] = field(default_factory=set)
    robot_posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    robot_failures: list[int] = field(default_factory=list)
    _robot_times: dict[str, deque[float]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def __aenter__(self) -> "FakeWeCom":
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update)
        app.router.add_post("/cgi-bin/appchat/create", self._chat_create)
        app.router.add_post("/cgi-bin/appchat/update", self._chat_update)
        app.router.add_get("/cgi-bin/appchat/get", self._chat_get)
        app.router.add_post("/cgi-bin/appchat/send", self._chat_send)
        app.router.add_post("/cgi-bin/webhook/send", self._robot)
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

    # Application chats and group robots

    async def _appchat(self, request: web.Request, name: str) -> tuple[dict[str, Any], int]:
        """The call's body, and the errcode to answer with (an injected one or a bad token)."""
        problem = self._valid(request)
        body = await request.json()
        if problem:
            return body, int(problem["errcode"])
        self.calls.append(Call(name, body, request.query["access_token"]))
        return body, self.appchat_failures.pop(0) if self.appchat_failures else 0

    def _outsiders(self, userids: list[str]) -> bool:
        return any(u not in self.members for u in userids)

    async def _chat_create(self, request: web.Request) -> web.Response:
        body, code = await self._appchat(request, "appchat_create")
        chat_id, users = str(body.get("chatid", "")), list(body.get("userlist") or [])
        owner = body.get("owner") or (users[0] if users else "")
        if not code and not _CHAT_ID.fullmatch(chat_id):
            code = 86001  # 0-9, a-z, A-Z only, at most 32
        elif not code and chat_id in self.chats:
            code = 86215  # the chat id is taken
        elif not code and not 2 <= len(set(users)) <= 2000:
            code = 86006
        elif not code and self._outsiders(users):
            code = 86216  # someone outside the application's range
        elif not code and owner not in users:
            code = 86207
        if code:
            return _error(code)
        self.chats[chat_id] = {"name": str(body.get("name", ""))[:50], "owner": owner,
                               "userlist": list(dict.fromkeys(users))}  # fmt: skip
        return web.json_response({"errcode": 0, "errmsg": "ok", "chatid": chat_id})

    async def _chat_update(self, request: web.Request) -> web.Response:
        body, code = await self._appchat(request, "appchat_update")
        chat = self.chats.get(str(body.get("chatid", "")))
        adding = list(body.get("add_user_list") or [])
        if not code and chat is None:
            code = 86003
        elif not code and self._outsiders(adding):
            code = 86216
        if code or chat is None:
            return _error(code or 86003)
        gone = set(body.get("del_user_list") or [])
        users = [u for u in chat["userlist"] if u not in gone]
        users += [u for u in adding if u not in users]
        owner = body.get("owner") or chat["owner"]
        if owner not in users:
            return _error(86207)
        chat.update(userlist=users, owner=owner)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _chat_get(self, request: web.Request) -> web.Response:
        problem, chat = self._valid(request), self.chats.get(request.query.get("chatid", ""))
        if problem or chat is None:
            return web.json_response(problem) if problem else _error(86003)
        info = {"chatid": request.query["chatid"], "chat_type": 0, **chat}
        return web.json_response({"errcode": 0, "errmsg": "ok", "chat_info": info})

    async def _chat_send(self, request: web.Request) -> web.Response:
        body, code = await self._appchat(request, "appchat_send")
        chat_id = str(body.get("chatid", ""))
        if not code and chat_id not in self.chats:
            code = 86003
        elif not code and body.get("msgtype") not in CHAT_MSGTYPES:
            code = 40008
        if code:
            return _error(code)
        self.chat_sent.setdefault(chat_id, []).append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})  # no msgid for a group

    async def _robot(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        body = await request.json()
        if key not in self.robot_keys:
            return _error(93000)  # invalid webhook url
        code = self.robot_failures.pop(0) if self.robot_failures else 0
        times = self._robot_times.setdefault(key, deque())
        now = time.monotonic()
        while times and times[0] <= now - 60:
            times.popleft()
        if not code and len(times) >= ROBOT_PER_MINUTE:
            code = 45009  # api freq out of limit
        if code:
            return _error(code)
        times.append(now)
        self.robot_posts.setdefault(key, []).append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def chat_texts(self, chat_id: str) -> list[str]:
        return [b["text"]["content"] for b in self.chat_sent.get(chat_id, [])
                if b["msgtype"] == "text"]  # fmt: skip

    def robot_texts(self, key: str) -> list[str]:
        return [b["text"]["content"] for b in self.robot_posts.get(key, [])
                if b["msgtype"] == "text"]  # fmt: skip

    def robot_url(self, key: str) -> str:
        """A robot's webhook address (the robot put in a group: its key is valid)."""
        self.robot_keys.add(key)
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

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


def _error(code: int) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": f"fake error {code}"})
