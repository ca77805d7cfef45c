"""The read-only web page: sign-in by a one-time code from the bot, branch scope, views and
downloads traced, and one run in a real headless browser (Debian's chromium via Playwright)."""

import dataclasses
import html
import io
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

import bot.web as web_package
from bot.app.services import Services
from bot.web.pages import add_web_pages
from bot.web.server import build_web_app, start_site
from handlers.access import watch
from handlers.account.weblogin import LOGIN_KIND
from storage.enums import Role
from storage.models import Member, OutboxMessage, Trace
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig
from tests.support.traces import traces_of
from tests.support.web import ask_code, csrf_of, last_code, send_code, sign_in, staff

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OTHER = "数学学院教工党支部"


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def queued_codes(services: Services) -> int:
    async with services.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "web.login"))
        return len(rows.all())


# --- sign-in --------------------------------------------------------------------------


async def test_code_sent_through_outbox_signs_in(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    await chat.enrol("李党员")
    asked = await ask_code(client, "王书记")
    assert asked.status == 200
    assert "验证码已通过机器人发到其绑定的聊天账号" in await asked.text()
    code = await last_code(services, secretary)
    done = await send_code(client, await asked.text(), code, allow_redirects=False)
    assert done.status == 303
    cookie = done.headers["Set-Cookie"]
    assert "bb_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP and no https PUBLIC_URL
    page = await client.get("/web/")
    body = await page.text()
    assert page.status == 200
    assert "化学化工学院第一党支部 考评表" in body and "李党员" in body and "王书记" in body
    [signed_in] = await traces_of(services, LOGIN_KIND)
    assert signed_in.data == {"step": "signed_in"} and signed_in.actor_id == secretary
    # Single use: the same code again is refused.
    again = await ask_code(client, "王书记")
    reused = await send_code(client, await again.text(), code)
    assert reused.status == 400


async def test_the_answer_before_sign_in_is_the_same_for_anyone(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    """Staff, a plain member, namesakes in two branches, a stranger, a #number: the page
    says the same; it never lists or confirms a person to someone not signed in."""
    await staff(chat, "王书记")
    await staff(chat, "李党员", role=Role.MEMBER)
    await staff(chat, "张同名", role=Role.SECRETARY)
    await staff(chat, "张同名", role=Role.SECRETARY, branch=OTHER)
    await chat.enrol("赵未绑", role=Role.SECRETARY)  # staff without a chat
    answers = set()
    for name in ("王书记", "李党员", "张同名", "张三丰", "#1", "#99999999999999999999", "赵未绑"):
        page = await ask_code(client, name)
        assert page.status == 200
        answers.add(_without_name(await page.text(), name))
    assert len(answers) == 1, answers
    # Namesakes who are both staff each got a code of their own, to their own chat.
    async with services.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage.member_id).where(OutboxMessage.kind == "web.login")
            )
        ).all()
    assert sorted(rows) == [1, 1, 3, 4]  # 王书记 (by name and as #1) and both 张同名


def _without_name(page: str, name: str) -> str:
    """The page with the typed name and the per-browser token taken out."""
    page = page.replace(html.escape(name, quote=True), "NAME").replace(name, "NAME")
    return re.sub(r'name="csrf" value="[0-9a-f]+"', "", page)


async def test_nothing_is_traced_before_sign_in(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    """Anonymous posts naming a member or guessing codes write no trace and raise no alert
    about the person named; the requester is limited before anything is written."""
    await staff(chat, "王书记")
    await staff(chat, "李党员", role=Role.MEMBER)
    before = len(await all_traces(services))
    for name in ("李党员", "王书记", "张三丰"):
        page = await ask_code(client, name)
        await send_code(client, await page.text(), "123456")
    assert len(await all_traces(services)) == before
    for _ in range(30):
        await ask_code(client, "李党员")
    assert len(await all_traces(services)) == before
    async with services.sessions.begin() as session:
        alerts = await watch(session, services.box, services.router.options, chat.clock())
    assert alerts == 0


async def all_traces(services: Services) -> list[Trace]:
    async with services.sessions() as session:
        return list((await session.scalars(select(Trace).order_by(Trace.id))).all())


async def test_a_guesser_is_limited_but_never_locks_the_owner_out(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    """Someone else asks for the secretary's code and guesses wrong again and again: they
    are throttled, their own codes die, and the owner's code (asked for in their own
    browser) still signs them in; the owner gets at most five codes an hour."""
    secretary = await staff(chat, "王书记")
    owner = await ask_code(client, "王书记")
    owners_code = await last_code(services, secretary)
    attacker = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(attacker)) as stranger:
        page = await ask_code(stranger, "王书记")
        attacker_code = await last_code(services, secretary)
        wrong = next(
            c for c in ("000000", "111111", "222222") if c not in (owners_code, attacker_code)
        )
        for _ in range(5):
            assert (await send_code(stranger, await page.text(), wrong)).status == 400
        # Five wrong guesses end the stranger's own code, even were it guessed right now.
        late = await send_code(stranger, await page.text(), attacker_code)
        assert "验证码不对或已过期" in await late.text()
        # The owner's code is bound to the owner's browser: useless from this one.
        stolen = await send_code(stranger, await page.text(), owners_code)
        assert stolen.status == 400
        for _ in range(10):
            await send_code(stranger, await page.text(), wrong)
        throttled = await send_code(stranger, await page.text(), wrong)
        assert "尝试太频繁" in await throttled.text()
        for _ in range(12):
            await ask_code(stranger, "王书记")
    assert await queued_codes(services) == 5  # sends per person an hour, whoever asks
    done = await send_code(client, await owner.text(), owners_code, allow_redirects=False)
    assert done.status == 303


async def test_a_code_from_one_service_process_works_in_another(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    """Codes live in the database: another process behind the same address (or this one
    after a restart) signs the person in, once."""
    secretary = await staff(chat, "王书记")
    asked = await ask_code(client, "王书记")
    code = await last_code(services, secretary)
    other = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(other)) as elsewhere:
        # The same browser: its CSRF cookie goes along.
        elsewhere.session.cookie_jar.update_cookies(
            {c.key: c.value for c in client.session.cookie_jar}
        )
        done = await send_code(elsewhere, await asked.text(), code, allow_redirects=False)
        assert done.status == 303
    reused = await send_code(client, await asked.text(), code)
    assert reused.status == 400


async def test_expired_code_is_refused_and_a_new_one_leaves_the_old_valid(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    asked = await ask_code(client, "王书记")
    code = await last_code(services, secretary)
    chat.clock.advance(minutes=10, seconds=1)
    late = await send_code(client, await asked.text(), code)
    assert late.status == 400 and "验证码不对或已过期" in await late.text()
    page = await client.get("/web/", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/web/login"
    first = await ask_code(client, "王书记")
    first_code = await last_code(services, secretary)
    await ask_code(client, "王书记")  # asked again: the first code is not replaced
    done = await send_code(client, await first.text(), first_code, allow_redirects=False)
    assert done.status == 303


async def test_forms_need_their_csrf_token(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    await staff(chat, "王书记")
    await client.get("/web/login")
    forged = await client.post("/web/login", data={"name": "王书记", "csrf": "0" * 64})
    assert forged.status == 403
    assert await queued_codes(services) == 0


async def test_session_expires_and_logout_ends_it(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    html = await sign_in(client, services, "王书记", secretary)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/web/"))["bb_session"].value
    out = await client.post("/web/logout", data={"csrf": csrf_of(html)}, allow_redirects=False)
    assert out.status == 303
    # The old cookie, replayed, no longer opens the page.
    client.session.cookie_jar.update_cookies({"bb_session": cookie}, client.make_url("/web/"))
    replay = await client.get("/web/", allow_redirects=False)
    assert replay.status == 303 and replay.headers["Location"] == "/web/login"
    await sign_in(client, services, "王书记", secretary)
    chat.clock.advance(hours=8, minutes=1)
    stale = await client.get("/web/", allow_redirects=False)
    assert stale.status == 303 and stale.headers["Location"] == "/web/login"


async def test_a_sign_out_holds_after_a_restart_and_in_another_process(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    page = await sign_in(client, services, "王书记", secretary)
    url = client.make_url("/web/")
    cookie = client.session.cookie_jar.filter_cookies(url)["bb_session"].value
    await client.post("/web/logout", data={"csrf": csrf_of(page)}, allow_redirects=False)
    restarted = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(restarted)) as again:
        again.session.cookie_jar.update_cookies({"bb_session": cookie}, again.make_url("/web/"))
        replay = await again.get("/web/", allow_redirects=False)
        assert replay.status == 303 and replay.headers["Location"] == "/web/login"


async def test_cookies_are_secure_when_the_public_url_is_https(
    chat: Chat, services: Services
) -> None:
    secretary = await staff(chat, "王书记")
    settings = services.settings.model_copy(update={"public_url": "https://dj.example.edu"})
    behind_proxy = dataclasses.replace(services, settings=settings)
    app = build_web_app({}, None, lambda app: add_web_pages(app, behind_proxy))
    async with TestClient(TestServer(app)) as client:
        first = await client.get("/web/login")
        set_csrf = first.headers["Set-Cookie"]
        assert set_csrf.startswith("bb_csrf=") and "Secure" in set_csrf
        # The test client speaks plain HTTP and so keeps Secure cookies back: send by hand.
        jar = {"bb_csrf": set_csrf.split(";")[0].split("=", 1)[1]}
        token = csrf_of(await first.text())
        asked = await client.post("/web/login", data={"name": "王书记", "csrf": token}, cookies=jar)
        code = await last_code(services, secretary)
        done = await send_code(client, await asked.text(), code, allow_redirects=False, cookies=jar)
        assert done.status == 303 and "Secure" in done.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "path", ["/web/login", "/web/nowhere", "/web/branch/99999999999999999999", "/healthz"]
)
async def test_every_response_carries_the_security_headers(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status in (200, 303, 404)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Server"] == "branchbot"


async def test_the_stylesheet_is_served_and_no_inline_style_is_left(
    client: TestClient[Any, Any],
) -> None:
    css = await client.get("/web/style.css")
    assert css.status == 200 and "--red" in await css.text()
    page = await (await client.get("/web/login")).text()
    assert "<style" not in page and "style=" not in page and "<script" not in page


# --- scope, views and downloads -------------------------------------------------------


async def test_a_secretary_sees_only_their_branch(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    other = await chat.branch(OTHER)
    await sign_in(client, services, "王书记", secretary)
    page = await client.get(f"/web/branch/{other.id}")
    assert page.status == 403 and "你只能查看本支部的数据" in await page.text()
    download = await client.get(f"/web/branch/{other.id}/export?format=xlsx")
    assert download.status == 403
    school = await client.get("/web/school/export?format=csv")
    assert school.status == 403
    refusals = await traces_of(services, "access.refused")
    assert [t.data["reason"] for t in refusals] == ["branch", "branch", "role"]
    assert not await traces_of(services, "data.exported")


async def test_an_admin_picks_any_branch(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    admin = await staff(chat, "赵组织员", role=Role.ADMIN)
    other = await chat.branch(OTHER)
    html = await sign_in(client, services, "赵组织员", admin)
    assert "全部支部" in html and OTHER in html
    page = await client.get(f"/web/branch/{other.id}?period=2026-09..2026-12")
    assert page.status == 200 and f"{OTHER} 考评表" in await page.text()
    picked = await client.get(f"/web/pick?branch={other.id}&period=term")
    assert picked.status == 200 and f"{OTHER} 考评表" in await picked.text()
    bad = await client.get(f"/web/branch/{other.id}?period=下学期")
    assert bad.status == 400 and "下学期" in await bad.text()
    viewed = await traces_of(services, "data.viewed")
    assert [t.data["what"] for t in viewed] == ["web.school", "web.scorecard", "web.scorecard"]


async def test_views_and_downloads_are_traced(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    await chat.enrol("李党员")
    await sign_in(client, services, "王书记", secretary)
    async with services.sessions() as session:
        me = await session.get(Member, secretary)
        assert me is not None
        branch_id = me.branch_id
    meetings = await client.get(f"/web/branch/{branch_id}/meetings")
    assert meetings.status == 200
    viewed = await traces_of(services, "data.viewed")
    assert [t.data["what"] for t in viewed] == ["web.scorecard", "web.meetings"]
    assert {t.actor_id for t in viewed} == {secretary}
    for fmt in ("xlsx", "csv", "json"):
        got = await client.get(f"/web/branch/{branch_id}/export?format={fmt}&period=term")
        assert got.status == 200, await got.text()
        assert "attachment" in got.headers["Content-Disposition"]
        body = await got.read()
        if fmt == "xlsx":
            from openpyxl import load_workbook

            assert load_workbook(io.BytesIO(body)).sheetnames
        else:
            assert "李党员" in body.decode("utf-8-sig")
    exported = await traces_of(services, "data.exported")
    assert [(t.data["what"], t.data["format"]) for t in exported] == [
        ("web.report", "xlsx"),
        ("web.report", "csv"),
        ("web.report", "json"),
    ]
    bad = await client.get(f"/web/branch/{branch_id}/export?format=pdf")
    assert bad.status == 400


async def test_names_are_escaped(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    secretary = await staff(chat, "王书记")
    await chat.enrol("<b>李</b>")
    await sign_in(client, services, "王书记", secretary)
    html = await (await client.get("/web/")).text()
    assert "&lt;b&gt;李&lt;/b&gt;" in html and "<b>李</b>" not in html


async def test_the_code_arrives_over_telegram(fake: FakeTelegram, rig: Rig, clock: Clock) -> None:
    """End to end: the code goes out through the outbox sender to the fake Bot API."""
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    pages = lambda app: add_web_pages(app, rig.services, rig.sender.wake)  # noqa: E731
    async with TestClient(TestServer(build_web_app({}, None, pages))) as client:
        asked = await ask_code(client, "书记")
        chat_id = int(secretary.account_id)
        await fake.wait_until(
            lambda: any("网页登录验证码" in t for t in fake.texts_to(chat_id)), 15
        )
        found = re.search(r"(\d{6})", fake.texts_to(chat_id)[-1])
        assert found, fake.texts_to(chat_id)
        done = await send_code(client, await asked.text(), found[1])
        assert done.status == 200 and "党员甲" in await done.text()


async def test_branchbot_run_serves_the_page(fake: FakeTelegram, database_url: str) -> None:
    from aiohttp import ClientSession

    from bot.app.settings import load_settings
    from bot.serve import start
    from tests.conftest import SECRET

    settings = load_settings(
        database_url=database_url,
        secret_key=SECRET,
        listen_port=0,
        telegram_token="123456:TEST",
        telegram_base_url=fake.base_url,
    )
    running = await start(settings)
    try:
        async with ClientSession() as http:
            page = await http.get(f"http://127.0.0.1:{running.port}/web/")
            assert page.status == 200 and "发送验证码" in await page.text()
    finally:
        await running.stop()


# --- a real browser -------------------------------------------------------------------


def _browser_problem() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[browser]', or '.[dev]')"
    return None


@pytest.fixture
def browser_ready() -> None:
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs a browser: {problem}")
        pytest.skip(problem)


@pytest.mark.timeout(180)
async def test_in_a_real_browser(
    browser_ready: None, chat: Chat, services: Services, tmp_path: Any
) -> None:
    from openpyxl import load_workbook
    from playwright.async_api import async_playwright

    secretary = await staff(chat, "王书记")
    await chat.enrol("李党员")
    app = build_web_app({}, None, lambda app: add_web_pages(app, services))
    runner, port = await start_site(app, "127.0.0.1", 0)
    try:
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = await browser.new_page(accept_downloads=True)
            await page.goto(f"http://127.0.0.1:{port}/web/")
            await page.fill("input[name=name]", "王书记")
            await page.click("#send-code")
            await page.wait_for_selector("input[name=code]")
            await page.fill("input[name=code]", await last_code(services, secretary))
            await page.click("#sign-in")
            await page.wait_for_selector("table#members")
            names = await page.inner_text("table#members")
            assert "李党员" in names and "王书记" in names
            loaded = await page.eval_on_selector(
                "img#chart", "img => img.complete && img.naturalWidth > 0"
            )
            assert loaded, "the chart did not load"
            async with page.expect_download() as waiting:
                await page.click("#download-xlsx")
            download = await waiting.value
            target = tmp_path / "card.xlsx"
            await download.save_as(target)
            assert load_workbook(target).sheetnames
            await browser.close()
    finally:
        await runner.cleanup()
    exported = await traces_of(services, "data.exported")
    assert [t.data["format"] for t in exported] == ["xlsx"]


def test_template_keys_exist_in_both_catalogs() -> None:
    """The templates' t("…") keys and t("prefix." ~ value) prefixes (the i18n scan reads
    Python only)."""
    from handlers.core.i18n import load_catalog

    templates = Path(web_package.__file__).parent / "templates"
    text = "\n".join(p.read_text(encoding="utf-8") for p in templates.glob("*.html"))
    keys = set(re.findall(r"""t\(["']([\w.]+)["']\s*[,)]""", text))
    prefixes = set(re.findall(r"""t\(["']([\w.]+\.)["']\s*~""", text))
    assert {"web.title", "web.chain_broken"} <= keys and "stage." in prefixes
    for lang in ("zh_CN", "en"):
        catalog = load_catalog(lang)
        assert not sorted(k for k in keys if k not in catalog), lang
        assert not sorted(p for p in prefixes if not any(k.startswith(p) for k in catalog))
