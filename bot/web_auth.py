"""The web page's sign-in: a one-time code sent by the bot, a signed session cookie, CSRF.

The session cookie is `member:issued:nonce:mac`, the MAC keyed from SECRET_KEY (the SecretBox),
so it cannot be forged or stretched; it lasts eight hours and is checked against the member
record on every request (a secretary who loses the role loses the page at once). The login
and logout forms are POSTs carrying a token bound to a random cookie of the browser.
"""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Services
from handlers import weblogin
from handlers.messages import RecordedRefusal, UserError
from storage.models import Member

SESSION_COOKIE = "bb_session"
CSRF_COOKIE = "bb_csrf"
SESSION_TTL = timedelta(hours=8)
PREFIX = "/web"
T = TypeVar("T")


@dataclass(frozen=True)
class Viewer:
    """The signed-in secretary or admin, as loaded for this request."""

    member_id: int
    name: str
    role: str
    branch_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == weblogin.Role.ADMIN

    def may_see(self, branch_id: int) -> bool:
        return self.is_admin or self.branch_id == branch_id


@dataclass
class WebState:
    services: Services
    templates: jinja2.Environment
    # Sessions signed out before their time (nonces), so a copied cookie stops working.
    revoked: set[str] = field(default_factory=set)
    wake: Callable[[], None] | None = None

    def now(self) -> datetime:
        return self.services.router.clock()

    def text(self, key: str, **params: Any) -> str:
        return self.services.renderer.render_key(key, **params)

    def page(
        self, request: web.Request, template: str, status: int = 200, **values: Any
    ) -> web.Response:
        browser = request.cookies.get(CSRF_COOKIE) or secrets.token_hex(16)
        values.setdefault("csrf", _csrf(self, browser))
        values.setdefault("me", None)
        body = self.templates.get_template(template).render(**values)
        response = web.Response(text=body, content_type="text/html", status=status)
        if browser != request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, browser, httponly=True, samesite="Lax", path=PREFIX)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response


STATE = web.AppKey("branchbot_web", WebState)


def templates_for(services: Services) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["t"] = services.renderer.render_key
    env.globals["prefix"] = PREFIX
    env.filters["when"] = services.renderer.value  # dates and times in the service's zone
    return env


# --- session cookie -------------------------------------------------------------------


def _session_payload(member_id: int, issued: int, nonce: str) -> bytes:
    return f"web-session:{member_id}:{issued}:{nonce}".encode()


def session_cookie(state: WebState, member_id: int, now: datetime) -> str:
    issued = int(now.timestamp())
    nonce = secrets.token_hex(12)
    mac = state.services.box.mac(_session_payload(member_id, issued, nonce))
    return f"{member_id}:{issued}:{nonce}:{mac}"


def _session_of(state: WebState, request: web.Request) -> tuple[int, str] | None:
    """(member id, nonce) of a valid, unexpired, not signed-out session cookie."""
    parts = request.cookies.get(SESSION_COOKIE, "").split(":")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    member_id, issued, nonce, mac = int(parts[0]), int(parts[1]), parts[2], parts[3]
    if not state.services.box.mac_matches(_session_payload(member_id, issued, nonce), mac):
        return None
    age = state.now() - datetime.fromtimestamp(issued, UTC)
    if not timedelta(minutes=-5) <= age < SESSION_TTL or nonce in state.revoked:
        return None
    return member_id, nonce


async def viewer(request: web.Request) -> Viewer:
    """The signed-in staff member, or a redirect to the login page."""
    state = request.app[STATE]
    found = _session_of(state, request)
    if found is not None:
        async with state.services.readers() as session:
            member = await session.get(Member, found[0])
            if member is not None and member.active and member.role in weblogin.STAFF_ROLES:
                return Viewer(member.id, member.name, member.role, member.branch_id)
    raise web.HTTPSeeOther(f"{PREFIX}/login")


# --- CSRF -----------------------------------------------------------------------------


def _csrf(state: WebState, browser: str) -> str:
    """The form token for a browser's random CSRF cookie."""
    return state.services.box.mac(f"web-csrf:{browser}".encode())


async def _form(request: web.Request) -> dict[str, str]:
    """The posted form, once its CSRF token is checked (403 otherwise)."""
    state = request.app[STATE]
    form = await request.post()
    browser = request.cookies.get(CSRF_COOKIE, "")
    token = str(form.get("csrf", ""))
    if not browser or not state.services.box.mac_matches(f"web-csrf:{browser}".encode(), token):
        raise web.HTTPForbidden(text=state.text("web.csrf_failed"))
    return {key: str(value) for key, value in form.items()}


# --- routes ---------------------------------------------------------------------------


async def _committed(
    state: WebState, work: Callable[[AsyncSession], Awaitable[T]]
) -> T | UserError:
    """Run `work` in one transaction: committed on success and on a recorded refusal (its
    trace is kept), rolled back on any other UserError, which is returned."""
    async with state.services.sessions() as session:
        try:
            async with session.begin():
                try:
                    return await work(session)
                except RecordedRefusal as refusal:
                    return refusal
        except UserError as err:
            return err


async def login_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if _session_of(state, request) is not None:
        raise web.HTTPSeeOther(f"{PREFIX}/")
    return state.page(request, "login.html", error=None, name="")


async def login_post(request: web.Request) -> web.Response:
    state = request.app[STATE]
    form = await _form(request)
    name = form.get("name", "")[:64]
    box, now = state.services.box, state.now()

    async def work(session: AsyncSession) -> Member:
        return await weblogin.request_code(session, box, name, now)

    result = await _committed(state, work)
    if isinstance(result, UserError):
        error = state.services.renderer.render(result.msg)
        return state.page(request, "login.html", status=400, error=error, name=name)
    if state.wake is not None:
        state.wake()  # the outbox sender, to send the code now rather than at its next poll
    return _code_page(state, request, result.id, None)


def _code_page(
    state: WebState, request: web.Request, member_id: int, error: str | None, status: int = 200
) -> web.Response:
    minutes = int(weblogin.CODE_TTL.total_seconds() // 60)
    return state.page(
        request, "code.html", status=status, member_id=member_id, error=error, minutes=minutes
    )


async def code_post(request: web.Request) -> web.Response:
    state = request.app[STATE]
    form = await _form(request)
    member_id = int(form["member"]) if form.get("member", "").isdigit() else 0
    code = form.get("code", "")[:16]
    box, now = state.services.box, state.now()

    async def work(session: AsyncSession) -> Member:
        return await weblogin.check_code(session, box, member_id, code, now)

    result = await _committed(state, work)
    if isinstance(result, UserError):
        error = state.services.renderer.render(result.msg)
        if result.msg.key in ("web.login.expired", "web.login.locked"):
            return state.page(request, "login.html", status=400, error=error, name="")
        return _code_page(state, request, member_id, error, status=400)
    response = web.HTTPSeeOther(f"{PREFIX}/")
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(state, result.id, now),
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="Lax",
        path=PREFIX,
        secure=request.secure,
    )
    raise response


async def logout_post(request: web.Request) -> web.Response:
    state = request.app[STATE]
    await _form(request)
    found = _session_of(state, request)
    if found is not None:
        state.revoked.add(found[1])
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response


def add_login_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/login", login_page)
    app.router.add_post(f"{PREFIX}/login", login_post)
    app.router.add_post(f"{PREFIX}/login/code", code_post)
    app.router.add_post(f"{PREFIX}/logout", logout_post)
