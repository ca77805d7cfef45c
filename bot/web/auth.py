"""The web page's sign-in: a one-time code sent by the bot, a signed session cookie, CSRF.

The session cookie is `member:issued:nonce:mac`, the MAC keyed from SECRET_KEY (the SecretBox),
so it cannot be forged or stretched; it lasts eight hours and is checked against the member
record and the sign-outs (both in the database) on every request: a secretary who loses the
role loses the page at once, and a signed-out cookie stays dead after a restart and in every
process. The login and logout forms are POSTs carrying a token bound to a random cookie of
the browser, which also names the browser a code is bound to. Before sign-in every answer is
the same whatever name is typed; requesters are limited in memory (bot/web/throttle.py).
Cookies are Secure when the request came over HTTPS or PUBLIC_URL is https.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jinja2
from aiohttp import web

from bot.app.services import Services
from bot.web.throttle import SignInLimits, requester
from handlers.account import weblogin
from storage import web_logins
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
    wake: Callable[[], None] | None = None
    limits: SignInLimits = field(default_factory=SignInLimits)

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
            response.set_cookie(
                CSRF_COOKIE,
                browser,
                httponly=True,
                samesite="Lax",
                path=PREFIX,
                secure=self.secure(request),
            )
        response.headers["Cache-Control"] = "no-store"
        return response

    def secure(self, request: web.Request) -> bool:
        """Cookies go over HTTPS only when people reach the page by it (the service has no
        TLS of its own: behind a proxy it sees plain HTTP, so PUBLIC_URL says)."""
        public = self.services.settings.public_url or ""
        return request.secure or public.startswith("https://")

    def requester_keys(self, request: web.Request) -> tuple[str, ...]:
        """Who is asking, for the sign-in limits: their address and their browser."""
        address = requester(request, self.services.settings.trusted_proxies)
        return (f"address:{address}", f"browser:{request.cookies.get(CSRF_COOKIE, '-')}")


STATE = web.AppKey("branchbot_web", WebState)


def templates_for(services: Services) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
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


def _session_of(state: WebState, request: web.Request) -> tuple[int, str, datetime] | None:
    """(member id, nonce, expiry) of a validly signed, unexpired session cookie (whether it
    was signed out is for the database to say)."""
    parts = request.cookies.get(SESSION_COOKIE, "").split(":")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    member_id, issued, nonce, mac = int(parts[0]), int(parts[1]), parts[2], parts[3]
    if not state.services.box.mac_matches(_session_payload(member_id, issued, nonce), mac):
        return None
    began = datetime.fromtimestamp(issued, UTC)
    if not timedelta(minutes=-5) <= state.now() - began < SESSION_TTL:
        return None
    return member_id, nonce, began + SESSION_TTL


async def _signed_in(state: WebState, request: web.Request) -> Member | None:
    """The staff member of a valid session cookie that was not signed out."""
    found = _session_of(state, request)
    if found is None:
        return None
    async with state.services.readers() as session:
        if await web_logins.signed_out(session, found[1]):
            return None
        member = await session.get(Member, found[0])
        if member is not None and member.active and member.role in weblogin.STAFF_ROLES:
            return member
    return None


async def viewer(request: web.Request) -> Viewer:
    """The signed-in staff member, or a redirect to the login page."""
    member = await _signed_in(request.app[STATE], request)
    if member is None:
        raise web.HTTPSeeOther(f"{PREFIX}/login")
    return Viewer(member.id, member.name, member.role, member.branch_id)


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


async def login_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if await _signed_in(state, request) is not None:
        raise web.HTTPSeeOther(f"{PREFIX}/")
    return state.page(request, "login.html", error=None, name="")


async def login_post(request: web.Request) -> web.Response:
    """Send codes to whoever the name is, if they may use the page; the answer is the same
    for anyone, on the roster or not, staff or not."""
    state = request.app[STATE]
    form = await _form(request)
    name = form.get("name", "").strip()[:64]
    if not name:
        return _login_again(state, request, "web.login.empty")
    keys, now = state.requester_keys(request), state.now()
    wait = state.limits.requests.blocked_for(keys, now)
    if wait is not None:
        return _login_again(state, request, "web.login.throttled", minutes=_minutes(wait))
    state.limits.requests.count(keys, now)
    browser = request.cookies.get(CSRF_COOKIE, "")
    async with state.services.sessions() as session, session.begin():
        sent = await weblogin.request_code(session, state.services.box, name, browser, now)
    if sent and state.wake is not None:
        state.wake()  # the outbox sender, to send the code now rather than at its next poll
    return _code_page(state, request, name, None)


def _login_again(state: WebState, request: web.Request, key: str, **params: Any) -> web.Response:
    error = state.text(key, **params)
    return state.page(request, "login.html", status=400, error=error, name="")


def _code_page(
    state: WebState, request: web.Request, name: str, error: str | None, status: int = 200
) -> web.Response:
    minutes = _minutes(weblogin.CODE_TTL)
    return state.page(request, "code.html", status=status, name=name, error=error, minutes=minutes)


async def code_post(request: web.Request) -> web.Response:
    state = request.app[STATE]
    form = await _form(request)
    name = form.get("name", "").strip()[:64]
    code = form.get("code", "")[:16]
    keys, now = state.requester_keys(request), state.now()
    wait = state.limits.wrong_codes.blocked_for(keys, now)
    if wait is not None:
        return _login_again(state, request, "web.login.throttled", minutes=_minutes(wait))
    browser = request.cookies.get(CSRF_COOKIE, "")
    async with state.services.sessions() as session, session.begin():
        member = await weblogin.check_code(session, state.services.box, name, browser, code, now)
    if member is None:
        state.limits.wrong_codes.count(keys, now)
        error = state.text("web.login.wrong_code")
        return _code_page(state, request, name, error, status=400)
    response = web.HTTPSeeOther(f"{PREFIX}/")
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(state, member.id, now),
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="Lax",
        path=PREFIX,
        secure=state.secure(request),
    )
    raise response


async def logout_post(request: web.Request) -> web.Response:
    """End the session everywhere: its nonce is kept in the database until it would expire."""
    state = request.app[STATE]
    await _form(request)
    found = _session_of(state, request)
    if found is not None:
        async with state.services.sessions() as session, session.begin():
            await web_logins.sign_out(session, found[1], found[2])
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response


def _minutes(delta: timedelta) -> int:
    return max(int(-(-delta.total_seconds() // 60)), 1)


def add_login_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/login", login_page)
    app.router.add_post(f"{PREFIX}/login", login_post)
    app.router.add_post(f"{PREFIX}/login/code", code_post)
    app.router.add_post(f"{PREFIX}/logout", logout_post)
