"""WeCom's server API: the access token (cached, refreshed early and on expiry) and the calls
the adapter makes. Errors come back as WeComError with WeCom's errcode."""

import asyncio
import logging
import time
from typing import Any

import aiohttp

log = logging.getLogger(__name__)
# Refresh this long before the token's stated expiry (7200 s), so none expires mid-call.
REFRESH_EARLY = 300.0
TOKEN_INVALID = frozenset({40014, 42001})  # invalid, expired
TIMEOUT = aiohttp.ClientTimeout(total=15)


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.body = body or {}
        # The msgids of the parts of a reply that went out before this error, and how many
        # parts were done (sent, or skipped as sent on an earlier attempt).
        self.sent: list[str] = []
        self.done = 0


class WeComClient:
    def __init__(self, base_url: str, corp_id: str, secret: str, agent_id: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def token(self, *, refused: str | None = None) -> str:
        """The access token, fetched once and shared until shortly before it expires; a
        `refused` one is replaced (once, however many calls saw it refused at the same time)."""
        async with self._lock:
            stale = refused is not None and refused == self._token
            if stale or self._token is None or time.monotonic() >= self._expires:
                params = {"corpid": self.corp_id, "corpsecret": self.secret}
                async with self.http.get(f"{self.base_url}/cgi-bin/gettoken", params=params) as r:
                    body = await r.json(content_type=None)
                _check(body)
                self._token = str(body["access_token"])
                lifetime = float(body.get("expires_in", 7200))
                self._expires = time.monotonic() + max(lifetime - REFRESH_EARLY, 60.0)
            return self._token

    async def call(
        self,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
        params: dict[str, str] | None = None,
        method: str = "POST",
    ) -> dict[str, Any]:
        """Call the API with the token (a POST unless told); an expired or invalid token is
        replaced and the call made once more."""
        refused: str | None = None
        for attempt in (1, 2):
            token = await self.token(refused=refused)
            query = {"access_token": token, **(params or {})}
            async with self.http.request(
                method, f"{self.base_url}{path}", params=query, json=json, data=data
            ) as response:
                if response.status >= 500:
                    raise WeComError(-response.status, f"HTTP {response.status}")
                body: dict[str, Any] = await response.json(content_type=None)
            if body.get("errcode") in TOKEN_INVALID and attempt == 1:
                log.info("WeCom access token refused (%s); fetching a new one", body["errcode"])
                refused = token
                continue
            _check(body)
            return body
        raise AssertionError("unreachable")

    async def send(self, userid: str, message: dict[str, Any]) -> dict[str, Any]:
        """message/send to one member; `message` holds msgtype and its content."""
        payload = {"touser": userid, "agentid": self.agent_id, **message}
        body = await self.call("/cgi-bin/message/send", json=payload)
        if userid in str(body.get("invaliduser", "")).split("|"):
            raise WeComError(81013, "user not found or not in the application's scope", body)
        return body

    async def send_to_chat(self, chat_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """appchat/send to an application group chat (no msgid comes back: such a message
        can be neither edited nor recalled)."""
        return await self.call("/cgi-bin/appchat/send", json={"chatid": chat_id, **message})

    async def create_chat(self, chat_id: str, name: str, owner: str, userids: list[str]) -> None:
        """appchat/create: a group chat of 2 to 2,000 members under our own chat id."""
        payload = {"chatid": chat_id, "name": name, "owner": owner, "userlist": userids}
        await self.call("/cgi-bin/appchat/create", json=payload)

    async def update_chat(
        self, chat_id: str, *, owner: str | None, add: list[str], remove: list[str]
    ) -> None:
        """appchat/update: members in and out, and the owner when it changes."""
        payload: dict[str, Any] = {"chatid": chat_id}
        if owner is not None:
            payload["owner"] = owner
        if add:
            payload["add_user_list"] = add
        if remove:
            payload["del_user_list"] = remove
        await self.call("/cgi-bin/appchat/update", json=payload)

    async def get_chat(self, chat_id: str) -> dict[str, Any]:
        """appchat/get: the chat's name, owner and userlist (86003: there is no such chat)."""
        body = await self.call("/cgi-bin/appchat/get", params={"chatid": chat_id}, method="GET")
        return dict(body.get("chat_info") or {})

    async def upload(self, kind: str, name: str, content: bytes) -> str:
        """A temporary media (3 days); returns its media_id."""
        form = aiohttp.FormData()
        form.add_field("media", content, filename=name)
        body = await self.call("/cgi-bin/media/upload", data=form, params={"type": kind})
        return str(body["media_id"])

    async def media(self, media_id: str, limit: int) -> bytes:
        """A temporary media's bytes (an image a member sent), at most `limit` of them; an
        error comes back as JSON instead of the file."""
        token = await self.token()
        query = {"access_token": token, "media_id": media_id}
        async with self.http.get(f"{self.base_url}/cgi-bin/media/get", params=query) as r:
            if r.status >= 500:
                raise WeComError(-r.status, f"HTTP {r.status}")
            if r.content_type in ("application/json", "text/plain"):
                _check(await r.json(content_type=None))
            content = await r.content.read(limit + 1)
        if len(content) > limit:
            raise WeComError(-413, f"media larger than {limit} bytes")
        return content

    async def update_card(self, userid: str, response_code: str, change: dict[str, Any]) -> None:
        """Change the card whose button was pressed: {"button": {"replace_name": ...}} or a
        whole {"template_card": ...} (the code is valid once, for 72 hours)."""
        payload = {
            "userids": [userid],
            "agentid": self.agent_id,
            "response_code": response_code,
            **change,
        }
        await self.call("/cgi-bin/message/update_template_card", json=payload)


def _check(body: dict[str, Any]) -> None:
    code = int(body.get("errcode", 0) or 0)
    if code:
        raise WeComError(code, str(body.get("errmsg", "")), body)
