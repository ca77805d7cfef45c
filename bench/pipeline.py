"""The development pipeline at school scale: 300 branches, 30,000 members, 10% in the pipeline.

    python bench/pipeline.py [--branches 300] [--members 30000] [--share 0.1]
                             [--rounds 5] [--database-url URL]

Builds, without timing it: branches with a secretary each and every member bound to a Telegram
chat; the pipeline people spread evenly over applicant/activist/candidate/probationary, each
with the dates they entered their stages (1–4 steps over the last three years), 1–3 talks,
reviews or trainings and (activists, candidates) one or two full members as contact persons;
and one focus branch (the first, about 100 members) with a year of history: 24 finished
meetings with everyone's attendance, materials learned, daily quizzes with their answers,
thought reports (encrypted) and their reviews, volunteer hours and dues. The clock is fixed
(NOW), so the figures do not depend on the day it runs. On PostgreSQL the tables are
ANALYZEd after loading, as autovacuum would have done on a live server.

Prints, each as a median over rounds (after one untimed warm-up) with a baseline measured in
the same process:
- `/candidates 评优` through the router, the focus branch's members side by side (goal
  < 500 ms), against /me;
- `/pipeline NAME` through the router, one probationary member's file (goal < 200 ms),
  against /me;
- the daily pipeline reminders over the whole school, each part in its own transaction as
  scheduler/pipeline_jobs.py runs them (goal < 10 s), against queueing one plain message to
  the same pipeline people in one transaction. After each round the outbox rows and traces
  the round added are deleted and the trace head is put back, so every round does the full
  work (and the trace chain still verifies);
- the Excel export of the focus branch's awards table (bot/cli/report.py's writer on the
  gathered rows), against gathering those rows alone. No goal.
"""

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bench.pipeline_data import (
    FIRST_USER,
    NOW,
    School,
    populate,
)
from bench.rig import database_url, fresh_services
from bot.app.services import Services
from bot.cli.report import _write
from handlers.access.watermark import exporter, watermark
from handlers.core.context import Options
from handlers.core.incoming import Incoming
from handlers.core.messages import Msg, Reply
from handlers.core.notify import queue_to_members
from handlers.pipeline.candidates import BY_KEY, sort_rows, table
from handlers.pipeline.reminders import remind_contact_talks, remind_deadlines
from handlers.thoughts.reminders import remind_due
from storage import pipeline
from storage.crypto import SecretBox
from storage.enums import (
    Stage,
)
from storage.models import (
    OutboxMessage,
    Trace,
    TraceHead,
)
from storage.traces import HEAD_ID

Reminder = Callable[[AsyncSession, SecretBox, Options, datetime], Awaitable[int]]
PARTS: dict[str, Reminder] = {
    "deadlines": remind_deadlines,
    "contact talks": remind_contact_talks,
    "thought reports": remind_due,
}
_updates = itertools.count()


async def ask(services: Services, user: int, text: str, expect: str) -> float:
    """Seconds for the router to answer `text` from `user`; the answer must be `expect`."""
    incoming = Incoming(platform="telegram", account_id=str(user), chat_id=str(user), text=text,
                        update_key=f"bench-pipeline-{next(_updates)}")  # fmt: skip
    start = time.perf_counter()
    replies = await services.router.handle(incoming)
    took = time.perf_counter() - start
    answer = replies[0].text if replies else None
    assert answer is not None and answer.key == expect, (text, answer)
    return took


async def command_rounds(
    services: Services, school: School, person: str, rounds: int
) -> list[tuple[float, float, float]]:
    """(/candidates 评优, /pipeline NAME, /me) seconds per round, after a warm-up."""
    user = FIRST_USER + school.secretary.number
    found = []
    for _ in range(rounds + 1):
        found.append(
            (
                await ask(services, user, "/candidates 评优", "candidates.table"),
                await ask(services, user, f"/pipeline {person}", "pipeline.file"),
                await ask(services, user, "/me", "me.profile"),
            )
        )
    return found[1:]


async def export_round(services: Services, school: School) -> tuple[float, float, int]:
    """(seconds to gather and write the Excel file, seconds to gather alone, its bytes)."""
    options, today, branch_id = services.router.options, school.today, school.branch_ids[0]
    awards = ("awards", today, options)
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        _, rows = await table(session, branch_id, *awards)
        sort_rows(rows, BY_KEY["name"], today)
    gathered = time.perf_counter() - start
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        period, rows = await table(session, branch_id, *awards)
        ordered = sort_rows(rows, BY_KEY["name"], today)
        mark = watermark(exporter("bench"), NOW)
        content = _write("xlsx", services.renderer, ordered, today, period, "awards",
                         school.focus_name, mark)  # fmt: skip
    return time.perf_counter() - start, gathered, len(content)


@dataclass(frozen=True)
class Mark:
    """Where the trace chain and the outbox stood before a round of reminders."""

    last_id: int
    last_hash: str
    seal: str
    outbox_id: int


async def mark(services: Services) -> Mark:
    async with services.sessions() as session:
        head = (
            await session.execute(select(TraceHead).where(TraceHead.id == HEAD_ID))
        ).scalar_one()
        outbox = await session.scalar(select(func.max(OutboxMessage.id)))
        return Mark(head.last_id, head.last_hash, head.seal, int(outbox or 0))


async def rewind(services: Services, to: Mark) -> None:
    """Delete what a round added (outbox rows, traces) and put the chain head back."""
    async with services.sessions.begin() as session:
        await session.execute(delete(Trace).where(Trace.id > to.last_id))
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id > to.outbox_id))
        await session.execute(
            update(TraceHead)
            .where(TraceHead.id == HEAD_ID)
            .values(last_id=to.last_id, last_hash=to.last_hash, seal=to.seal)
        )


async def reminder_round(
    services: Services, people: Sequence[int]
) -> tuple[dict[str, float], dict[str, int], float]:
    """(seconds per part, what each part reports queued, seconds for the plain message)."""
    took, queued = {}, {}
    for name, remind in PARTS.items():
        start = time.perf_counter()
        async with services.sessions.begin() as session:
            queued[name] = await remind(session, services.box, services.router.options, NOW)
        took[name] = time.perf_counter() - start
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        await queue_to_members(session, people, Reply(Msg("quiz.reminder")), key="bench:plain",
                               kind="bench", now=NOW)  # fmt: skip
    return took, queued, time.perf_counter() - start


async def reminder_rounds(
    services: Services, rounds: int
) -> tuple[list[tuple[dict[str, float], dict[str, int], float]], int]:
    """Each round from the same state; (rounds, pipeline people)."""
    async with services.sessions() as session:
        people = [m.id for m in await pipeline.in_pipeline(session, None)]
    start = await mark(services)
    found = []
    for _ in range(rounds):
        found.append(await reminder_round(services, people))
        await rewind(services, start)
    assert all(r[1] == found[0][1] for r in found), "rounds did different work"
    return found, len(people)


def print_figures(
    commands: list[tuple[float, float, float]],
    exports: list[tuple[float, float, int]],
    reminders: list[tuple[dict[str, float], dict[str, int], float]],
    people: int,
) -> None:
    med = statistics.median
    me = med(c[2] for c in commands) * 1000
    table_ms, file_ms = med(c[0] for c in commands) * 1000, med(c[1] for c in commands) * 1000
    print(f"/candidates 评优:  {table_ms:7.1f} ms   (goal < 500 ms; /me: {me:.1f} ms, "
          f"ratio {table_ms / me:.1f})")  # fmt: skip
    print(f"/pipeline NAME:   {file_ms:7.1f} ms   (goal < 200 ms; /me: {me:.1f} ms, "
          f"ratio {file_ms / me:.1f})")  # fmt: skip
    parts = {name: med(r[0][name] for r in reminders) for name in PARTS}
    total, plain = med(sum(r[0].values()) for r in reminders), med(r[2] for r in reminders)
    print(f"daily reminders:  {total:7.2f} s    (goal < 10 s; one plain message to the {people} "
          f"pipeline people: {plain:.2f} s, ratio {total / plain:.1f})")  # fmt: skip
    queued = reminders[0][1]
    for name, took in parts.items():
        print(f"  {name + ':':<16}{took:7.2f} s    ({queued[name]} queued a round)")
    written, gathered = med(e[0] for e in exports), med(e[1] for e in exports)
    print(f"Excel export:     {written:7.2f} s    ({exports[0][2] // 1024} KB; gathering the rows "
          f"alone: {gathered:.2f} s, ratio {written / gathered:.1f})")  # fmt: skip


async def analyze(services: Services) -> None:
    """Planner statistics on PostgreSQL, as autovacuum keeps them on a live server: without
    them the freshly bulk-loaded tables get sequential scans (reach_everywhere's join with
    members took 8 ms instead of 0.1 ms). SQLite is left as the service runs it, unanalysed."""
    if services.engine.dialect.name == "postgresql":
        async with services.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def main(n_branches: int, n_members: int, share: float, rounds: int, url: str | None) -> None:
    services, url = await fresh_services(url, "pipeline.sqlite3", NOW)
    today = NOW.astimezone(services.router.options.timezone).date()
    began = time.perf_counter()
    school = await populate(services, n_branches, n_members, share, today)
    await analyze(services)
    prepared = time.perf_counter() - began
    focus = school.focus
    # The richest file: a probationary member's, else whoever is furthest along.
    person = max(focus, key=lambda p: (p.stage != Stage.FULL, len(p.entered)))
    commands = await command_rounds(services, school, person.name, rounds)
    exports = [await export_round(services, school) for _ in range(rounds + 1)][1:]
    reminders, people = await reminder_rounds(services, rounds)
    await services.close()
    print(f"branches: {n_branches}, members: {n_members} ({people} in the pipeline), focus "
          f"branch: {len(focus)} members with a year of history; prepared in {prepared:.1f} s; "
          f"rounds: {rounds}, database: {url.split(':')[0]}")  # fmt: skip
    print_figures(commands, exports, reminders, people)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--members", type=int, default=30_000)
    parser.add_argument("--share", type=float, default=0.1, help="of members in the pipeline")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", type=database_url)
    args = parser.parse_args()
    asyncio.run(main(args.branches, args.members, args.share, args.rounds, args.database_url))
