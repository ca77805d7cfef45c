"""Signing in to the web page as a test: a bound staff member, the form's CSRF token, the
code from the outbox."""

import html
import re
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app.services import Services
from handlers.core.payload import queued_reply
from storage.enums import Role
from storage.models import OutboxMessage
from tests.support.chat import Chat


async def staff(
    chat: Chat, name: str, role: Role = Role.SECRETARY, branch: str | None = None
) -> int:
    """A bound member (bound through the bot, so the code has a chat to go to)."""
    kwargs: dict[str, Any] = {"role": role}
    if branch is not None:
        kwargs["branch"] = branch
    member_id, _ = await chat.enrolled(name, **kwargs)
    return member_id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found[1]


async def ask_code(client: TestClient[Any, Any], name: str) -> ClientResponse:
    page = await client.get("/web/login")
    token = csrf_of(await page.text())
    return await client.post("/web/login", data={"name": name, "csrf": token})


async def last_code(services: Services, member_id: int) -> str:
    """The code in the newest sign-in message queued to the member."""
    async with services.sessions() as session:
        row = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.member_id == member_id, OutboxMessage.kind == "web.login")
            .order_by(OutboxMessage.id.desc())
        )
    assert row is not None, "no sign-in code was queued"
    assert row.sealed is not None, "the code must be sealed, never in the payload"
    reply = queued_reply(services.box, row.payload, row.sealed)
    assert reply.text is not None
    text = services.renderer.render(reply.text)
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found[1]


async def send_code(
    client: TestClient[Any, Any], page_html: str, code: str, **kwargs: Any
) -> ClientResponse:
    name = re.search(r'name="name" value="([^"]*)"', page_html)
    assert name, page_html
    data = {"csrf": csrf_of(page_html), "name": html.unescape(name[1]), "code": code}
    return await client.post("/web/login/code", data=data, **kwargs)


async def sign_in(
    client: TestClient[Any, Any], services: Services, name: str, member_id: int
) -> str:
    asked = await ask_code(client, name)
    assert asked.status == 200, await asked.text()
    done = await send_code(client, await asked.text(), await last_code(services, member_id))
    assert done.status == 200, await done.text()
    return await done.text()
