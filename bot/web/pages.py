"""The read-only web page for secretaries and admins: scorecards, attendance, downloads.

Every page checks the session (bot/web/auth.py) and the branch scope: a secretary sees
their own branch only, an admin every branch and the all-branches view. Figures come from
handlers/evaluation (the same as /report and `branchbot report`); every view is traced
data.viewed and every download data.exported, the file watermarked with the viewer's name.
"""

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.app.services import Services
from bot.reports.ledger import FORMATS as LEDGER_FORMATS
from bot.reports.ledger import ledger_file
from bot.reports.scorecard import scorecard_file
from bot.web.auth import PREFIX, STATE, Viewer, WebState, add_login_routes, templates_for, viewer
from handlers.access.watermark import exporter, watermark
from handlers.common.charts import Bars, chart_or_none, panels_chart
from handlers.common.periods import YEARS, Period, parse_period, term_of
from handlers.core.messages import UserError
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import (
    BranchScorecard,
    branch_scorecard,
    meeting_table,
)
from handlers.orglife.ledger import build_ledger
from storage import people, traces
from storage.models import Branch

FORMATS = {"xlsx": "xlsx", "csv": "csv", "json": "json"}
Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_web_pages(
    app: web.Application, services: Services, wake: Callable[[], None] | None = None
) -> None:
    """Serve the page under /web on `app` (the service's one aiohttp app)."""
    app[STATE] = WebState(services, templates_for(services), wake=wake)
    add_login_routes(app)
    app.router.add_get(f"{PREFIX}/style.css", stylesheet)
    app.router.add_get(PREFIX, home)
    app.router.add_get(f"{PREFIX}/", home)
    app.router.add_get(f"{PREFIX}/branches", branches_page)
    app.router.add_get(f"{PREFIX}/pick", pick_branch)
    # Branch numbers of at most nine digits: a longer one is no branch (404), never a
    # number too big for the database.
    app.router.add_get(f"{PREFIX}/branch/{{branch:\\d{{1,9}}}}", scorecard_page)
    app.router.add_get(f"{PREFIX}/branch/{{branch:\\d{{1,9}}}}/meetings", meetings_page)
    app.router.add_get(f"{PREFIX}/branch/{{branch:\\d{{1,9}}}}/export", branch_export)
    app.router.add_get(f"{PREFIX}/branch/{{branch:\\d{{1,9}}}}/ledger", ledger_export)
    app.router.add_get(f"{PREFIX}/school/export", school_export)


# --- helpers --------------------------------------------------------------------------


STYLESHEET = resources.files("bot.web").joinpath("templates/style.css").read_bytes()


async def stylesheet(_request: web.Request) -> web.Response:
    response = web.Response(body=STYLESHEET, content_type="text/css", charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _today(state: WebState) -> date:
    return state.now().astimezone(state.services.router.options.timezone).date()


def _period(state: WebState, request: web.Request) -> tuple[Period, str]:
    """The period asked for (?period=…, default this term) and the text to show back."""
    text = request.query.get("period", "").strip()[:40]
    if not text:
        return term_of(_today(state)), ""
    try:
        return parse_period(text, _today(state)), text
    except UserError as err:
        raise _refused_page(state, request, state.services.renderer.render(err.msg), 400) from err


def _refused_page(state: WebState, request: web.Request, text: str, status: int) -> web.HTTPError:
    body = state.page(request, "message.html", status=status, message=text, me=None)
    error = web.HTTPForbidden if status == 403 else web.HTTPBadRequest
    return error(text=body.text, content_type="text/html")


async def _trace(
    state: WebState, me: Viewer, kind: str, branch_id: int | None, data: dict[str, Any]
) -> int:
    async with state.services.sessions() as session, session.begin():
        row = await traces.append(
            session,
            state.services.box,
            kind=kind,
            at=state.now(),
            branch_id=branch_id,
            actor_id=me.member_id,
            data=data,
        )
        return int(row.id)


async def _scoped_branch(state: WebState, request: web.Request, me: Viewer) -> Branch:
    """The branch in the path, if the viewer may see it (403, traced, otherwise)."""
    branch_id = int(request.match_info["branch"])
    async with state.services.readers() as session:
        branch = await session.get(Branch, branch_id)
    if branch is None:
        raise _refused_page(state, request, state.text("web.no_branch"), 400)
    if not me.may_see(branch_id):
        await _trace(
            state, me, "access.refused", me.branch_id, {"command": "web", "reason": "branch"}
        )
        raise _refused_page(state, request, state.text("web.not_your_branch"), 403)
    return branch


def _panels(state: WebState, card: BranchScorecard) -> list[Bars]:
    """The chart's panels: members' totals and the branch's rate per indicator."""
    panels = []
    if card.members:
        names = [m.name for m in card.members]
        panels.append(
            Bars(state.text("web.chart.totals"), names, [round(m.total, 1) for m in card.members])
        )
    rated = [(i.name, card.branch_rates.get(i.id)) for i in card.indicators]
    shown = [(name, rate * 100) for name, rate in rated if rate is not None]
    if shown:
        notes = [f"{value:.0f}%" for _, value in shown]
        labels, values = [n for n, _ in shown], [v for _, v in shown]
        panels.append(Bars(state.text("web.chart.rates"), labels, values, notes))
    return panels


async def _chart(state: WebState, card: BranchScorecard) -> tuple[bytes | None, bool]:
    """The chart as one PNG (None when there is nothing to draw), and whether drawing it
    failed: the page is served either way, saying so in the chart's place."""
    panels = _panels(state, card)
    if not panels:
        return None, False
    about = f"web scorecard branch {card.branch_id} {card.period.label}"
    loop = asyncio.get_running_loop()
    png = await loop.run_in_executor(None, chart_or_none, about, panels_chart, panels)
    return png, png is None


def data_url(png: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else None


# --- pages ----------------------------------------------------------------------------


async def home(request: web.Request) -> web.StreamResponse:
    me = await viewer(request)
    if me.is_admin or me.branch_id is None:
        raise web.HTTPSeeOther(f"{PREFIX}/branches")
    raise web.HTTPSeeOther(f"{PREFIX}/branch/{me.branch_id}")


async def pick_branch(request: web.Request) -> web.StreamResponse:
    """The branch picker's form: on to the chosen branch's page (which checks the scope)."""
    await viewer(request)
    branch = request.query.get("branch", "")
    period = request.query.get("period", "")
    target = f"{PREFIX}/branch/{branch}" if branch.isdigit() else f"{PREFIX}/branches"
    raise web.HTTPSeeOther(target + (f"?period={quote(period)}" if period else ""))


async def branches_page(request: web.Request) -> web.StreamResponse:
    """An admin's branch picker and all-branches table; a secretary goes to their branch."""
    state = request.app[STATE]
    me = await viewer(request)
    if not me.is_admin:
        if me.branch_id is None:
            raise _refused_page(state, request, state.text("web.no_branch"), 403)
        raise web.HTTPSeeOther(f"{PREFIX}/branch/{me.branch_id}")
    period, asked = _period(state, request)
    services = state.services
    async with services.readers() as session:
        branches = list(await people.all_branches(session))
        cards = await school_report(
            session, services.box, period, services.router.options, today=_today(state)
        )
    await _trace(state, me, "data.viewed", None, {"what": "web.school", "period": period.label})
    return state.page(
        request, "branches.html", me=me, period=period, asked=asked, branches=branches,
        cards=cards, chain=cards[0].chain if cards else None,
    )  # fmt: skip


async def scorecard_page(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    me = await viewer(request)
    branch = await _scoped_branch(state, request, me)
    period, asked = _period(state, request)
    services = state.services
    async with services.readers() as session:
        card = await branch_scorecard(
            session, services.box, branch.id, period, services.router.options, today=_today(state)
        )
        branches = list(await people.all_branches(session)) if me.is_admin else []
    png, chart_failed = await _chart(state, card)
    await _trace(
        state, me, "data.viewed", branch.id, {"what": "web.scorecard", "period": period.label}
    )
    return state.page(
        request, "scorecard.html", me=me, card=card, period=period, asked=asked,
        branch=branch, branches=branches, chart=data_url(png), chart_failed=chart_failed,
        chain=card.chain, year=_today(state).year,
    )  # fmt: skip


async def meetings_page(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    me = await viewer(request)
    branch = await _scoped_branch(state, request, me)
    period, asked = _period(state, request)
    async with state.services.readers() as session:
        rows = await meeting_table(
            session, branch.id, period.clipped(_today(state)), state.services.router.options
        )
    await _trace(
        state, me, "data.viewed", branch.id, {"what": "web.meetings", "period": period.label}
    )
    return state.page(
        request, "meetings.html", me=me, rows=rows, period=period, asked=asked, branch=branch
    )


# --- downloads ------------------------------------------------------------------------


def _format(state: WebState, request: web.Request) -> str:
    fmt = FORMATS.get(request.query.get("format", ""))
    if fmt is None:
        raise _refused_page(state, request, state.text("web.bad_format"), 400)
    return fmt


def _attachment(content: bytes, mime: str, filename: str) -> web.Response:
    return web.Response(
        body=content,
        content_type=mime.split(";")[0],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _download(
    state: WebState,
    me: Viewer,
    fmt: str,
    cards: list[BranchScorecard],
    branch_id: int | None,
    stem: str,
) -> web.Response:
    label = cards[0].period.label if cards else ""
    data = {"what": "web.report", "format": fmt, "period": label, "branches": len(cards)}
    trace_id = await _trace(state, me, "data.exported", branch_id, data)
    mark = watermark(exporter(me.name, me.member_id), state.now(), trace_id)
    make = scorecard_file
    content, mime = await asyncio.get_running_loop().run_in_executor(
        None, make, fmt, state.services.renderer, cards, mark
    )
    return _attachment(content, mime, f"scorecard-{stem}-{label.replace('..', '_')}.{fmt}")


async def branch_export(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    me = await viewer(request)
    branch = await _scoped_branch(state, request, me)
    fmt = _format(state, request)
    period, _ = _period(state, request)
    services = state.services
    async with services.readers() as session:
        card = await branch_scorecard(
            session, services.box, branch.id, period, services.router.options, today=_today(state)
        )
    return await _download(state, me, fmt, [card], branch.id, f"b{branch.id}")


async def school_export(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    me = await viewer(request)
    if not me.is_admin:
        await _trace(
            state, me, "access.refused", me.branch_id, {"command": "web", "reason": "role"}
        )
        raise _refused_page(state, request, state.text("web.admins_only"), 403)
    fmt = _format(state, request)
    period, _ = _period(state, request)
    services = state.services
    async with services.readers() as session:
        cards = await school_report(
            session, services.box, period, services.router.options, today=_today(state)
        )
    return await _download(state, me, fmt, cards, None, "all")


async def ledger_export(request: web.Request) -> web.StreamResponse:
    """The branch's ledger (台账) for ?year= (this year by default) as ?format=docx|pdf|json."""
    state = request.app[STATE]
    me = await viewer(request)
    branch = await _scoped_branch(state, request, me)
    fmt = request.query.get("format", "")
    year_text = request.query.get("year", "") or str(_today(state).year)
    if fmt not in LEDGER_FORMATS:
        raise _refused_page(state, request, state.text("web.ledger_bad_format"), 400)
    if not year_text.isdigit() or not YEARS[0] <= int(year_text) <= YEARS[1]:
        raise _refused_page(state, request, state.text("web.bad_year"), 400)
    year, services = int(year_text), state.services
    async with services.readers() as session:
        book = await build_ledger(
            session, services.box, branch, year, state.now(), services.router.options.timezone
        )
    data = {"what": "ledger", "format": fmt, "branch": branch.name, "year": year}
    trace_id = await _trace(state, me, "data.exported", branch.id, data)
    mark = watermark(exporter(me.name, me.member_id), state.now(), trace_id)
    content, mime = await asyncio.get_running_loop().run_in_executor(
        None, ledger_file, fmt, services.renderer, book, mark
    )
    return _attachment(content, mime, f"ledger-b{branch.id}-{year}.{fmt}")
