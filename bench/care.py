"""The six-month rule at school scale: the daily notices over every branch, and /care.

    python bench/care.py [--branches 100] [--members 50] [--rounds 5] [--database-url URL]

Builds, without timing it: branches of `--members` full members each (the first the
secretary), every member bound to a Telegram chat and on the roster for three years; two
finalised meetings a month in every branch over the 24 months the rule reads back, with
everyone's attendance; dues paid every month. One member in twenty stopped taking part and
paying 4 to 8 months ago (so each round tells about them: alerts, the six-month list, the
members' reminders). The clock is fixed (NOW). On PostgreSQL the tables are ANALYZEd after
loading, as autovacuum would have done on a live server.

Prints, each as a median over rounds (after one untimed warm-up) with a baseline measured in
the same process:
- the daily part (handlers/care/alerts.py remind_care) over the whole school in one
  transaction, as scheduler/pipeline_jobs.py runs it, against reading the same attendance
  rows bare (one SELECT, no memberships, no counting). After each round what it added (notices
  given, outbox rows, traces) is deleted and the trace head put back, so every round does the
  full work;
- `/care` through the router, one branch's list, against /me.
"""

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.pipeline import analyze, ask, mark, rewind
from bench.pipeline_data import insert_rows
from bench.rig import database_url, fresh_services
from bot.app.services import Services
from handlers.care.alerts import remind_care
from handlers.common.periods import add_months
from handlers.dues.standing import month_of
from storage.care_models import CareNotice
from storage.enums import MeetingKind, MeetingStatus, Presence, Role
from storage.models import Attendance, Branch, Meeting, Member, PlatformAccount
from storage.pipeline_models import DuesPayment
from storage.roster_models import Membership

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, when the daily job runs
TODAY = date(2026, 11, 24)
JOINED = NOW - timedelta(days=3 * 365)
FIRST_USER = 50_000_000
MONTHS = 24


def stopped(index: int) -> int | None:
    """How many months ago member `index` of a branch stopped (one in twenty), else None."""
    return 4 + index // 20 % 5 if index % 20 == 1 else None


async def add_people(session: AsyncSession, branches: int, size: int) -> dict[int, list[int]]:
    """Each branch's member ids (the first its secretary), bound and on the roster."""
    await insert_rows(session, Branch, [{"name": f"第{b + 1:03d}党支部", "created_at": JOINED}
                                        for b in range(branches)])  # fmt: skip
    branch_ids = list((await session.scalars(select(Branch.id).order_by(Branch.id))).all())
    await insert_rows(session, Member, [
        {"branch_id": branch_ids[i // size], "name": f"党员{i:06d}", "stage": "full",
         "role": Role.SECRETARY if i % size == 0 else Role.MEMBER, "active": True,
         "interests": [], "created_at": JOINED} for i in range(branches * size)])  # fmt: skip
    ids = list((await session.scalars(select(Member.id).order_by(Member.id))).all())
    await insert_rows(session, PlatformAccount, [
        {"platform": "telegram", "external_id": str(FIRST_USER + n), "chat_id": str(FIRST_USER + n),
         "member_id": m, "bound_at": NOW} for n, m in enumerate(ids)])  # fmt: skip
    await insert_rows(session, Membership, [
        {"member_id": m, "branch_id": branch_ids[n // size], "since": JOINED, "reason": "joined"}
        for n, m in enumerate(ids)])  # fmt: skip
    return {b: ids[n * size : (n + 1) * size] for n, b in enumerate(branch_ids)}


def held_on(months_ago: int, day: int) -> datetime:
    month = add_months(month_of(TODAY), -months_ago)
    return datetime(month.year, month.month, day, 6, tzinfo=UTC)


async def add_meetings(session: AsyncSession, branches: dict[int, list[int]]) -> int:
    """Two finalised meetings a month per branch with everyone's attendance; how many rows."""
    held = [(b, ago, day) for b in branches for ago in range(1, MONTHS + 1) for day in (10, 25)]
    await insert_rows(session, Meeting, [
        {"branch_id": b, "kind": MeetingKind.THEME_DAY, "title": f"主题党日 {ago}-{day}",
         "starts_at": held_on(ago, day), "minutes": 90, "status": MeetingStatus.FINISHED,
         "checkin_secret": "JBSWY3DPEHPK3PXP", "created_at": JOINED, "jobs_synced": True}
        for b, ago, day in held])  # fmt: skip
    ids = list((await session.scalars(select(Meeting.id).order_by(Meeting.id))).all())
    rows: list[dict[str, Any]] = []
    for meeting_id, (b, ago, day) in zip(ids, held, strict=True):
        for index, member_id in enumerate(branches[b]):
            gone = stopped(index)
            presence = Presence.ABSENT if gone is not None and ago <= gone else Presence.PRESENT
            rows.append({"meeting_id": meeting_id, "member_id": member_id, "presence": presence,
                         "late": False, "at": held_on(ago, day)})  # fmt: skip
    await insert_rows(session, Attendance, rows)
    return len(rows)


async def add_dues(session: AsyncSession, branches: dict[int, list[int]]) -> None:
    first = month_of(JOINED.date())
    rows = []
    for members in branches.values():
        for index, member_id in enumerate(members):
            gone = stopped(index)
            months = 36 if gone is None else 36 - gone
            for k in range(months):
                month = add_months(first, k)
                rows.append({"member_id": member_id, "month": month, "amount_fen": 20,
                             "paid_on": month, "source": "import", "recorded_at": NOW})  # fmt: skip
    await insert_rows(session, DuesPayment, rows)


async def bare_read(services: Services) -> float:
    """The baseline: every attendance row the rule reads, in one plain query."""
    since = held_on(MONTHS, 1)
    start = time.perf_counter()
    async with services.sessions() as session:
        query = (
            select(Attendance.member_id, Attendance.presence, Meeting.starts_at)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Meeting.starts_at >= since)
        )
        rows = (await session.execute(query)).all()
    assert rows
    return time.perf_counter() - start


async def daily_rounds(services: Services, rounds: int) -> list[tuple[float, float, int]]:
    """(seconds for remind_care, seconds for the bare read, members told about) per round."""
    start = await mark(services)
    found = []
    for _ in range(rounds + 1):
        began = time.perf_counter()
        async with services.sessions.begin() as session:
            told = await remind_care(session, services.box, services.router.options, NOW)
        took = time.perf_counter() - began
        found.append((took, await bare_read(services), told))
        await rewind(services, start)
        async with services.sessions.begin() as session:
            await session.execute(delete(CareNotice))
    assert all(r[2] == found[0][2] for r in found), "rounds did different work"
    return found[1:]


async def main(n_branches: int, size: int, rounds: int, url: str | None) -> None:
    services, url = await fresh_services(url, "care.sqlite3", NOW)
    began = time.perf_counter()
    async with services.sessions.begin() as session:
        branches = await add_people(session, n_branches, size)
        attendance = await add_meetings(session, branches)
        await add_dues(session, branches)
    await analyze(services)
    prepared = time.perf_counter() - began
    daily = await daily_rounds(services, rounds)
    secretary = FIRST_USER  # the first branch's secretary
    care = [await ask(services, secretary, "/care", "care.list") for _ in range(rounds + 1)][1:]
    me = [await ask(services, secretary, "/me", "me.profile") for _ in range(rounds + 1)][1:]
    await services.close()
    med = statistics.median
    print(f"branches: {n_branches}, members: {n_branches * size}, attendance rows: {attendance} "
          f"over {MONTHS} months; prepared in {prepared:.1f} s; rounds: {rounds}, "
          f"database: {url.split(':')[0]}")  # fmt: skip
    took, bare, told = med(r[0] for r in daily), med(r[1] for r in daily), daily[0][2]
    print(f"daily care notices: {took:6.2f} s   ({told} members told about; the bare read of "
          f"the same attendance: {bare:.2f} s, ratio {took / bare:.1f})")  # fmt: skip
    care_ms, me_ms = med(care) * 1000, med(me) * 1000
    print(f"/care (one branch): {care_ms:6.1f} ms  (/me: {me_ms:.1f} ms, ratio "
          f"{care_ms / me_ms:.1f})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=100)
    parser.add_argument("--members", type=int, default=50, help="per branch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", type=database_url)
    args = parser.parse_args()
    asyncio.run(main(args.branches, args.members, args.rounds, args.database_url))
