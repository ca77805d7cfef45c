"""The daily study jobs: each member's recommended material in the morning, and in the
evening a reminder to those who have not done the day's quiz. Both go through the outbox,
keyed by day, so a job that runs twice sends nothing twice."""

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import queue_each, queue_to_members
from handlers.core.tracer import Entry, SessionTracer
from handlers.study import index
from handlers.study.days import day_start
from handlers.study.recommend import Pick, Recommender
from storage import materials, quizzes, traces
from storage.crypto import SecretBox
from storage.materials import ReadMark, material_ref
from storage.models import Material

EXCERPT = 120  # characters of the text shown in the push; the rest one tap away
RESHOW_DAYS = 14  # a pushed material not learned is not pushed again for this long
PUSH_PRIORITY = 7  # after notices and reminders


def push_reply(material: Material, why: Msg) -> Reply:
    body = material.body.replace("\n", " ")
    excerpt = body[:EXCERPT] + ("…" if len(body) > EXCERPT else "")
    text = Msg("study.push", title=material.title, excerpt=excerpt or "-", why=why)
    buttons = (
        Button(Msg("study.read_button"), f"/study {material.id}"),
        Button(Msg("study.learned_button"), f"/learned {material.id}"),
    )
    return Reply(text, (buttons,))


def _skip(reads: dict[int, ReadMark], now: datetime) -> set[int]:
    """Learned materials, and those pushed lately without being learned."""
    return {
        mid
        for mid, read in reads.items()
        if read.learned_at is not None
        or (read.pushed_at is not None and (now - read.pushed_at).days < RESHOW_DAYS)
    }


async def push_materials(
    session: AsyncSession, box: SecretBox, now: datetime, zone: ZoneInfo
) -> int:
    """Queue every member's recommended material for today; returns how many were queued."""
    members = await quizzes.learners(session)
    reads = await materials.reads_of(session, None)
    since = day_start(now, zone)
    due = [m for m in members if not _pushed_since(reads.get(m.id, {}), since)]
    weak = await quizzes.mistake_tags(session, None)
    recommender = Recommender(
        await index.current_index(session), await materials.all_active(session)
    )
    picks: dict[int, Pick] = {}
    for member in due:
        skip = _skip(reads.get(member.id, {}), now)
        pick = recommender.best(member.branch_id, member.interests, weak.get(member.id, {}), skip)
        if pick is not None:
            picks[member.id] = pick
    branch_of = {m.id: m.branch_id for m in due}
    key = f"study:push:{since.date().isoformat()}"
    return len(await queue_pushes(session, box, picks, branch_of, now, key=key))


def _pushed_since(reads: dict[int, ReadMark], since: datetime) -> bool:
    return any(r.pushed_at is not None and r.pushed_at >= since for r in reads.values())


async def queue_pushes(
    session: AsyncSession,
    box: SecretBox,
    picks: Mapping[int, Pick],
    branch_of: Mapping[int, int | None],
    now: datetime,
    *,
    key: str,
    actor_id: int | None = None,
) -> set[int]:
    """Queue each member's pick (member id → material and why), mark it pushed and trace
    material.pushed (`actor_id`: who pushed; None: the morning job); returns the members
    reached. `key` keeps a job run twice, or a button pressed twice, from sending twice."""
    chosen = await materials.visible_among(
        session, list({p.material_id for p in picks.values()}), None
    )
    replies = {mid: push_reply(chosen[p.material_id], p.why) for mid, p in picks.items()}
    refs = {mid: material_ref(p.material_id) for mid, p in picks.items()}
    reached = await queue_each(
        session, replies, key=key, kind="material", now=now, refs=refs, priority=PUSH_PRIORITY
    )
    pushed = [(mid, picks[mid].material_id) for mid in sorted(reached)]
    await materials.mark_pushed_many(session, pushed, now)
    entries = [
        Entry(
            "material.pushed",
            member_id=member_id,
            branch_id=branch_of.get(member_id),
            actor_id=actor_id,
            ref=material_ref(material_id),
        )
        for member_id, material_id in pushed
    ]
    await SessionTracer(session, box, now).trace_many(entries)
    return reached


async def remind_quiz(session: AsyncSession, box: SecretBox, now: datetime, zone: ZoneInfo) -> int:
    """Remind the members who have not done today's quiz; returns how many were reachable."""
    today = now.astimezone(zone).date()
    ids = [m.id for m in await quizzes.learners(session)]
    done = await quizzes.done_on(session, today)
    waiting = [mid for mid in ids if mid not in done]
    start = Button(Msg("quiz.start_button"), "/quiz")
    reached = await queue_to_members(
        session,
        waiting,
        Reply(Msg("quiz.reminder"), ((start,),)),
        key=f"quiz:remind:{today.isoformat()}",
        kind="quiz.reminder",
        now=now,
        priority=PUSH_PRIORITY,
    )
    ref = f"quiz:remind:{today.isoformat()}"
    if not await traces.count(session, kind="quiz.reminded", ref=ref):  # once, if rerun
        data = {"members": len(reached)}
        await SessionTracer(session, box, now).trace("quiz.reminded", ref=ref, data=data)
    return len(reached)
