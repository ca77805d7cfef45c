"""The evaluation (考评) at school scale: 300 branches, 30,000 members, 5,000,000 traces.

    python bench/evaluation.py [--branches 300] [--members 30000] [--traces 5000000]
                               [--small] [--movers SHARE] [--rounds 5]
                               [--database-url URL] [--reuse]

Builds, timed apart from the figures: a year of a school's record (2025-07-21 to NOW,
2026-07-20, so the figures do not depend on the day it runs) in one valid trace chain, with
the state rows behind it (bench/evaluation_data.py): finalised meetings with everyone's
attendance, check-ins and approved leave; notices delivered and acknowledged (seconds in the
data); counted daily quizzes and practice rounds; materials pushed and learned; dues,
volunteer hours and thought reports; about 6% other kinds (data.viewed, searches, ...); some
members joined mid-year; each member's membership of their branch (with `--movers`, that
share of them moved to the next branch on a day of the spring term, so their scorecards
take the stint path). Loaded a month per transaction past the ORM (COPY on PostgreSQL,
executemany on the raw sqlite3 handle), the big tables' secondary indexes rebuilt after;
PostgreSQL is ANALYZEd, as autovacuum would have done on a live server. Then 1,000 random
traces are re-read and checked against their hash and neighbour; the first chain state below
walks all of them. `--small`: 20 branches, 2,000 members, 200,000 traces. `--reuse` keeps a
database a previous run filled (same --database-url and sizes; the bench's key is fixed).

Prints, each as a median over rounds (after one untimed warm-up) with a baseline measured in
the same process, over the spring term 2026-02..2026-07 (the trend: the autumn term):
- one branch's scorecard (handlers.evaluation.scorecard.branch_scorecard, with the previous
  term), goal < 1 s, against counting that branch's traces in the term with one query;
- the all-branches report (school_report), goal < 10 s, against one GROUP BY branch_id count
  over the term;
- one member's scorecard (member_scorecard), goal < 50 ms, against counting their traces in
  the term;
- the chain: the full walk (storage.chain.verify, kept as the nightly job keeps it), then a
  report's check (chain_state) after a restart, with nothing and with a day of rows appended
  since the walk, and later in the same process. No goal.
"""

import argparse
import asyncio
import base64
import gc
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bench.evaluation_data import (
    NOW,
    START,
    TRACE_COLUMNS,
    Chain,
    Month,
    Plan,
    Size,
    add_others,
    build_month,
    check_sample,
    meeting_days,
    month_starts,
    plan,
    school_rows,
)  # fmt: skip
from bench.rig import database_url
from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from handlers.common.periods import Period, parse_period
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import branch_scorecard, member_scorecard
from storage import schema
from storage.chain import chain_state, forget_progress, record_walk, verify
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Member, Trace, TraceHead
from storage.traces import HEAD_ID, Entry, append_many, seal_payload
from tests.conftest import reset_postgres

SMALL = Size(branches=20, members=2_000, traces=200_000)
# Fixed, so that --reuse finds a chain it can verify; a benchmark database holds no secrets.
BENCH_KEY = base64.urlsafe_b64encode(b"branchbot-bench-evaluation-key!!").decode()
STATE_COLUMNS = {  # the rows a month adds, in load order (foreign keys first)
    "meetings": ("id", "branch_id", "kind", "title", "starts_at", "minutes", "status",
                 "checkin_secret", "checkin_opened_at", "created_by", "created_at", "jobs_synced"),
    "attendance": ("meeting_id", "member_id", "presence", "late", "mode", "at"),
    "leave_requests": ("id", "meeting_id", "member_id", "reason_enc", "status", "created_at",
                       "decided_by", "decided_at"),
    "notices": ("id", "branch_id", "author_id", "text", "audience", "require_ack", "created_at",
                "reminders"),
    "notice_recipients": ("notice_id", "member_id", "acked_at"),
    "quizzes": ("id", "member_id", "branch_id", "day", "mode", "counted", "question_ids",
                "position", "correct", "selection", "asked_at", "started_at", "finished_at"),
    "material_reads": ("member_id", "material_id", "pushed_at", "learned_at"),
    "dues_payments": ("member_id", "month", "amount_fen", "paid_on", "source", "recorded_by",
                      "recorded_at"),
    "volunteer_records": ("id", "member_id", "branch_id", "day", "minutes", "activity", "status",
                          "created_at", "decided_by", "decided_at"),
    "thought_reports": ("id", "member_id", "branch_id", "stage", "body_enc", "submitted_at"),
}  # fmt: skip
COLUMNS = {
    "branches": ("id", "name", "created_at"),
    "members": ("id", "branch_id", "name", "role", "stage", "interests", "active", "created_at"),
    "memberships": ("id", "member_id", "branch_id", "since", "until", "reason", "end_reason"),
    "questions": ("id", "code", "kind", "stem", "options", "answer", "tags", "difficulty",
                  "explanation", "source", "active", "updated_at"),
    "materials": ("id", "branch_id", "title", "body", "keywords", "terms", "digest", "active",
                  "created_at"),
    "traces": TRACE_COLUMNS,
} | STATE_COLUMNS  # fmt: skip
Work = Callable[[AsyncSession], Awaitable[Any]]


class Loader:
    """Bulk rows in the connection's transaction: COPY on PostgreSQL, executemany on the raw
    sqlite3 handle. Values go in as SQLAlchemy binds them: times as naive UTC (ISO text on
    SQLite), dates as ISO text on SQLite, JSON as text."""

    def __init__(self, driver: Any, postgres: bool) -> None:
        self.driver, self.postgres = driver, postgres

    @classmethod
    async def on(cls, conn: AsyncConnection) -> "Loader":
        driver = (await conn.get_raw_connection()).driver_connection
        if conn.dialect.name == "postgresql":  # rows consistent by construction: no FK triggers
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            return cls(driver, True)
        return cls(driver._connection, False)  # type: ignore[union-attr]  # the sqlite3 handle

    async def load(self, table: str, rows: list[tuple[Any, ...]], cooked: bool = False) -> None:
        """Rows in COLUMNS[table] order; `cooked`: already as the driver takes them."""
        columns, cook = COLUMNS[table], self.cook
        rows = rows if cooked else [tuple(cook(v) for v in row) for row in rows]
        if rows and self.postgres:
            await self.driver.copy_records_to_table(table, records=rows, columns=list(columns))
        elif rows:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            self.driver.executemany(sql, rows)

    def cook(self, value: Any) -> Any:
        if isinstance(value, datetime):
            naive = value.replace(tzinfo=None)  # every time built here is in UTC
            return naive if self.postgres else naive.isoformat(" ", "microseconds")
        if isinstance(value, date) and not self.postgres:
            return value.isoformat()
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


@asynccontextmanager
async def indexes_dropped(engine: AsyncEngine, tables: Sequence[str]) -> AsyncIterator[list[float]]:
    """The tables' secondary indexes dropped for the load and rebuilt from their own DDL after
    it (one sort each instead of millions of B-tree inserts); yields [seconds to rebuild]."""
    if engine.dialect.name == "postgresql":
        query = text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
            " WHERE t.relname = ANY(:tables) AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        )
        params: dict[str, Any] = {"tables": list(tables)}
    else:
        marks = ", ".join(f":t{i}" for i in range(len(tables)))
        query = text(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                     f"AND sql IS NOT NULL AND tbl_name IN ({marks})")  # fmt: skip
        params = {f"t{i}": t for i, t in enumerate(tables)}
    async with engine.begin() as conn:
        found = (await conn.execute(query, params)).tuples().all()
        for name, _ in found:
            await conn.execute(text(f'DROP INDEX "{name}"'))
    took = [0.0]
    yield took
    began = time.perf_counter()
    async with engine.begin() as conn:
        for _, ddl in found:
            await conn.execute(text(ddl))
    took[0] = time.perf_counter() - began


@dataclass
class Generated:
    plan: Plan
    movers: float = 0.0
    traces: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    indexing: float = 0.0  # of which rebuilding the dropped indexes


async def load_month(conn: AsyncConnection, month: Month, chain: Chain, made: Generated) -> None:
    loader = await Loader.on(conn)
    if month.start == START:
        for table, rows in school_rows(made.plan, made.movers).items():
            await loader.load(table, rows)
    for table in STATE_COLUMNS:
        rows = month.rows.get(table, [])
        await loader.load(table, rows)
        made.rows[table] = made.rows.get(table, 0) + len(rows)
    await loader.load("traces", chain.link(month.events), cooked=True)
    made.traces += len(month.events)


async def seal(conn: AsyncConnection, box: SecretBox, chain: Chain, ids: dict[str, int]) -> None:
    """The chain head moved to the last row and sealed; on PostgreSQL the id sequences moved
    past the explicit ids, and ANALYZE."""
    mark = box.mac(seal_payload(chain.last_id, chain.last_hash))
    values = {"last_id": chain.last_id, "last_hash": chain.last_hash, "seal": mark}
    await conn.execute(update(TraceHead).where(TraceHead.id == HEAD_ID).values(**values))
    if conn.dialect.name == "postgresql":
        for table in ("branches", "members", "memberships", "questions", "materials", *ids):
            await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))  # fmt: skip
        await conn.execute(text("ANALYZE"))


async def populate(engine: AsyncEngine, box: SecretBox, size: Size, seed: int = 7) -> Generated:
    """The whole year, a month per transaction, then the chain head sealed."""
    began, rng, ids = time.perf_counter(), Random(seed), dict[str, int]()
    made, chain = (
        Generated(plan(rng, size), size.movers),
        Chain(box, engine.dialect.name == "postgresql"),
    )
    schedule, people = meeting_days(rng, made.plan), made.plan.people
    async with indexes_dropped(engine, ("traces", *STATE_COLUMNS)) as rebuilt:
        for start, end in itertools.pairwise(month_starts()):
            month = Month(start, end, ids)
            build_month(month, rng, box, made.plan, schedule)
            due = round(size.traces * ((end - START) / (NOW - START)))  # others fill up to here
            add_others(month, rng, people, max(0, due - made.traces - len(month.events)))
            month.events.sort(key=itemgetter(0))
            async with engine.begin() as conn:
                await load_month(conn, month, chain, made)
    async with engine.begin() as conn:
        await seal(conn, box, chain, ids)
    made.seconds, made.indexing = time.perf_counter() - began, rebuilt[0]
    return made


async def rounds_of(
    services: Services, rounds: int, work: Work, baseline: Work
) -> tuple[float, float, Any]:
    """Median seconds of `work` and of `baseline`, each in a session of its own (as a request
    gets) and alternating, over rounds after a warm-up; and what `work` last returned."""
    took: list[list[float]] = [[], []]
    found = None
    for _ in range(rounds + 1):
        for times, each in zip(took, (work, baseline), strict=True):
            start = time.perf_counter()
            async with services.sessions() as session:
                result = await each(session)
            times.append(time.perf_counter() - start)
            found = result if each is work else found
    return statistics.median(took[0][1:]), statistics.median(took[1][1:]), found


def shown(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def line(label: str, figures: tuple[float, float, Any], goal: str, baseline: str) -> str:
    took, base, _ = figures
    ratio = f"ratio {took / base:.1f}"
    return f"{label:<21}{shown(took):>10}   ({goal}; {baseline}: {shown(base)}, {ratio})"


@dataclass(frozen=True)
class Target:
    branch_id: int
    member_id: int  # an ordinary member of that branch, there all year
    period: Period


async def measure(services: Services, target: Target, rounds: int) -> list[str]:
    """The three scorecards against their baselines; the lines to print."""
    options, box, period, today = services.router.options, services.box, target.period, NOW.date()
    since, until = period.bounds(options.timezone)
    counted = select(func.count(Trace.id)).where(Trace.at >= since, Trace.at < until)

    async def branch(session: AsyncSession) -> Any:
        return await branch_scorecard(session, box, target.branch_id, period, options, today=today)

    async def school(session: AsyncSession) -> Any:
        return await school_report(session, box, period, options, today=today)

    async def member(session: AsyncSession) -> Any:
        return await member_scorecard(session, box, target.member_id, period, options, today=today)

    def count(query: Any) -> Work:
        async def counting(session: AsyncSession) -> Any:
            return (await session.execute(query)).all()

        return counting

    figures = await rounds_of(
        services, rounds, branch, count(counted.where(Trace.branch_id == target.branch_id))
    )
    card = figures[2]
    assert card.members and card.meetings and card.chain.ok, "an empty or unsound scorecard"
    lines = [
        line("branch scorecard:", figures, "goal < 1 s", "counting the branch's traces"),
        f"  ({len(card.members)} members, {len(card.meetings)} meetings in the term)",
    ]
    per_branch = select(Trace.branch_id, func.count(Trace.id)).where(
        Trace.at >= since, Trace.at < until
    )
    figures = await rounds_of(services, rounds, school, count(per_branch.group_by(Trace.branch_id)))
    cards = figures[2]
    assert all(c.members for c in cards), "a branch without members in the report"
    members = sum(len(c.members) for c in cards)
    lines += [
        line("all-branches report:", figures, "goal < 10 s", "GROUP BY branch_id"),
        f"  ({len(cards)} branches, {members} members)",
    ]
    # A school's report is millions of objects: kept alive here, every collection of the
    # garbage collector during the member rounds would walk them (100 ms pauses), which a
    # service answering /myreport does not carry.
    del figures, cards
    gc.collect()
    figures = await rounds_of(
        services, rounds, member, count(counted.where(Trace.member_id == target.member_id))
    )
    assert figures[2][0].member_id == target.member_id
    lines.append(line("member scorecard:", figures, "goal < 50 ms", "counting their traces"))
    return lines


async def chain_rounds(services: Services, rounds: int, per_day: int) -> list[str]:
    """The full walk, kept (as the nightly job and `branchbot verify` do), then a report's
    check of the chain: just after a restart with nothing appended since the walk, after a
    restart with a day's worth of rows appended (data.viewed, about no one: the figures stay
    the same), and later checks in the same process (median)."""
    box = services.box
    start = time.perf_counter()
    async with services.readers() as session:
        result = await verify(session, box)
    async with services.sessions.begin() as session:
        await record_walk(session, box, result, NOW)
    full = time.perf_counter() - start
    assert result.ok, f"the generated chain does not verify: {result}"

    async def check(restart: bool) -> float:
        if restart:
            forget_progress()
        began = time.perf_counter()
        async with services.readers() as session:
            state = await chain_state(session, box)
        assert state.ok, f"the chain check failed: {state}"
        return time.perf_counter() - began

    quiet = statistics.median([await check(True) for _ in range(rounds)])
    day = [Entry("data.viewed", data={"what": "bench"}) for _ in range(per_day)]
    async with services.sessions.begin() as session:
        await append_many(session, box, day, NOW)
    after_day = await check(True)
    later = statistics.median([await check(False) for _ in range(rounds)])
    return [
        f"chain full walk:     {shown(full):>10}   ({result.checked:,} traces, "
        f"{result.checked / full:,.0f}/s; nightly and `branchbot verify`, kept; no goal)",
        f"report chain check:  {shown(quiet):>10}   (after a restart, nothing appended since "
        "the walk)",
        f"                     {shown(after_day):>10}   (after a restart, {per_day:,} rows "
        "appended since: a day at this school's rate)",
        f"                     {shown(later):>10}   (later reports in the same process)",
    ]


async def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when the server has none of that name."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        query = "SELECT 1 FROM pg_database WHERE datname = $1"
        if not await conn.fetchval(query, parsed.database):
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def prepare(services: Services, size: Size, url: str, reuse: bool) -> Generated | None:
    """Fill the database (None: --reuse found it filled)."""
    if url.startswith("postgresql"):
        await ensure_database(url)
    if reuse:
        await schema.upgrade(services.engine)
        async with services.sessions() as session:
            if await session.scalar(select(TraceHead.last_id)):
                return None
    if url.startswith("postgresql"):
        await services.engine.dispose()
        await reset_postgres(url)
    await schema.upgrade(services.engine)
    return await populate(services.engine, services.box, size)


def print_generated(made: Generated | None, size: Size, sampled: int, backend: str) -> None:
    if made is None:
        print(
            f"database: {backend}, as a previous run filled it; {sampled} sampled traces verified"
        )
        return
    p = made.plan
    print(f"branches: {size.branches}, members: {size.members}, traces: {made.traces:,} (asked "
          f"{size.traces:,}); database: {backend}\ngenerated in {made.seconds:.1f} s "
          f"({made.traces / made.seconds:,.0f} traces/s; indexes rebuilt in "
          f"{made.indexing:.1f} s); "
          f"{sampled} sampled traces re-read and verified\n  a year: {p.meetings} meetings and "
          f"{p.notices} notices a branch, about {p.quizzes:.0f} quizzes and {p.pushes:.0f} "
          f"materials pushed a member\n  rows: "
          + ", ".join(f"{table} {n:,}" for table, n in made.rows.items()), flush=True)  # fmt: skip


async def main(size: Size, rounds: int, url: str | None, reuse: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-evaluation-"))
    url = url or f"sqlite+aiosqlite:///{folder / 'evaluation.sqlite3'}"
    settings = load_settings(database_url=url, secret_key=BENCH_KEY)
    services = build_services(settings, clock=lambda: NOW)
    made = await prepare(services, size, url, reuse)
    sampled = await check_sample(services.engine, services.box, 1000)
    print_generated(made, size, sampled, make_url(url).get_backend_name())
    del made  # what generating built is not the service's to carry (see measure)
    term = parse_period("term", NOW.date())
    async with services.sessions() as session:
        query = select(Member.id).where(Member.branch_id == 1, Member.role == Role.MEMBER)
        member_id = await session.scalar(query.where(Member.created_at < START))
    target = Target(1, int(member_id or 0), term)
    chain_lines = await chain_rounds(services, rounds, max(1, size.traces // 365))
    lines = await measure(services, target, rounds)
    await services.close()
    shutil.rmtree(folder)  # gigabytes at full size; --database-url keeps a file for --reuse
    print(f"rounds: {rounds}; period: {term.label} (previous {term.previous().label}); "
          f"branch {target.branch_id}, member {target.member_id}")  # fmt: skip
    print("\n".join(lines + chain_lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--members", type=int, default=30_000)
    parser.add_argument("--traces", type=int, default=5_000_000)
    parser.add_argument(
        "--small", action="store_true", help="20 branches, 2,000 members, 200,000 traces"
    )
    parser.add_argument(
        "--movers", type=float, default=0.0, help="share of members moved in the spring term"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", type=database_url)
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled")
    args = parser.parse_args()
    chosen = SMALL if args.small else Size(args.branches, args.members, args.traces)
    chosen = replace(chosen, movers=args.movers)
    asyncio.run(main(chosen, args.rounds, args.database_url, args.reuse))
