"""Rules over the traces that catch unusual access to people's data, and the alerts they raise.

`watch` is what the scheduler runs every few minutes. Each rule is one aggregate query over
the last `access_window` (a sliding window ending now):

- volume: an account read more than `access_max_reads` records of others, or more than
  `access_usual_factor` times its usual rate (its reads per window over the 30 days before)
  while also at least `access_min_reads`;
- outside: a non-admin read data of a member of another branch (one such read is enough);
- refusals: an account had `access_max_refusals` commands refused.

A hit is one incident per rule and account: it alerts the account's branch secretaries and
every admin through the outbox, keyed `access:RULE:ACTOR:WINDOW` (WINDOW: the start of the
window-long slot of time the alert falls in) and traced as access.alert with that key as
its ref. While an alert for the same rule and account is younger than a window, the
continuing incident raises nothing new; after that, a new window alerts again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.access.settings import AccessSettings
from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import queue_each
from handlers.core.tracer import SessionTracer
from storage import access, traces
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Member

HISTORY = timedelta(days=30)  # how far back an account's usual rate is taken from
ALERT_PRIORITY = 2  # before routine reminders: someone may be copying data right now
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Hit:
    """A rule that fired for one account: how many reads (or refusals) in the window, and
    for the usual-rate test, the account's usual reads per window."""

    rule: str  # volume | outside | refusals
    actor_id: int
    count: int
    usual: float | None = None


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the window-long slot (counted from the Unix epoch, in UTC) holding now."""
    return EPOCH + ((now - EPOCH) // window) * window


def incident_key(rule: str, actor_id: int, start: datetime) -> str:
    return f"access:{rule}:{actor_id}:{start.astimezone(UTC):%Y%m%dT%H%MZ}"


async def volume_hits(
    session: AsyncSession, limits: AccessSettings, since: datetime, now: datetime
) -> list[Hit]:
    counts = await access.reads_by_actor(session, since, now)
    hits = [Hit("volume", a, n) for a, n in counts.items() if n > limits.access_max_reads]
    over = {hit.actor_id for hit in hits}
    # Only accounts busy enough to matter get their history looked up (one query for all).
    busy = [a for a, n in counts.items() if a not in over and n >= limits.access_min_reads]
    if not busy:
        return hits
    past = await access.reads_by_actor(session, since - HISTORY, since, busy)
    windows = HISTORY / limits.window
    for actor in busy:
        usual = past.get(actor, 0) / windows
        if counts[actor] > limits.access_usual_factor * usual:
            hits.append(Hit("volume", actor, counts[actor], usual))
    return hits


async def all_hits(
    session: AsyncSession, limits: AccessSettings, since: datetime, now: datetime
) -> list[Hit]:
    hits = await volume_hits(session, limits, since, now)
    outside = await access.outside_reads_by_actor(session, since, now)
    hits += [Hit("outside", a, n) for a, n in outside.items()]
    refusals = await access.refusals_by_actor(session, since, now)
    hits += [Hit("refusals", a, n) for a, n in refusals.items() if n >= limits.access_max_refusals]
    return sorted(hits, key=lambda h: (h.actor_id, h.rule))


async def watch(session: AsyncSession, box: SecretBox, options: Options, now: datetime) -> int:
    """Evaluate the rules over the last window and alert on new incidents; returns how many
    alerts were raised (a second run over the same incidents raises none)."""
    limits = options.of(AccessSettings)
    since = now - limits.window
    hits = await all_hits(session, limits, since, now)
    if not hits:
        return 0
    start = window_start(now, limits.window)
    # An incident still going on was alerted within the last window: its key has the prefix.
    recent = await access.alert_refs_since(session, since)
    fresh = [h for h in hits if not any(r.startswith(_prefix(h)) for r in recent)]
    keys = {h: incident_key(h.rule, h.actor_id, start) for h in fresh}
    raised_already = await traces.refs_present(session, access.ALERT, list(keys.values()))
    actors = await access.members(session, sorted({h.actor_id for h in fresh}))
    raised = 0
    for hit in fresh:
        actor = actors.get(hit.actor_id)
        if actor is None or keys[hit] in raised_already:
            continue
        await _alert(session, box, limits, hit, actor, keys[hit], now)
        raised += 1
    return raised


def _prefix(hit: Hit) -> str:
    return f"access:{hit.rule}:{hit.actor_id}:"


async def _alert(
    session: AsyncSession,
    box: SecretBox,
    limits: AccessSettings,
    hit: Hit,
    actor: Member,
    key: str,
    now: datetime,
) -> None:
    recipients = await access.alert_recipients(session, actor.branch_id)
    text = alert_msg(hit, actor, limits)
    button = ((Button(Msg("access.log_button"), f"/access_log #{actor.id}"),),)
    # Only admins may open the access log: a secretary pressing the button would be refused.
    replies = {
        member: Reply(text, button if role == Role.ADMIN else ())
        for member, role in recipients.items()
    }
    reached = await queue_each(
        session,
        replies,
        key=key,
        kind="access.alert",
        now=now,
        refs=dict.fromkeys(replies, key),
        priority=ALERT_PRIORITY,
    )
    data: dict[str, object] = {
        "rule": hit.rule,
        "actor": actor.id,
        "count": hit.count,
        "window_minutes": _minutes(limits.window),
        "recipients": len(recipients),
        "reached": len(reached),
    }
    if hit.usual is not None:
        data["usual"] = round(hit.usual, 2)
    await SessionTracer(session, box, now).trace(
        "access.alert",
        branch_id=actor.branch_id,
        member_id=actor.id,
        ref=key,
        data=data,
    )


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


def alert_msg(hit: Hit, actor: Member, limits: AccessSettings) -> Msg:
    """The alert as its readers see it: the account, the rule, the count and the window."""
    return Msg(
        "access.alert",
        who=Msg("access.actor", name=actor.name, id=actor.id, role=Msg(f"role.{actor.role}")),
        branch=actor.branch.name if actor.branch else Msg("access.no_branch"),
        rule=Msg(f"access.rule.{hit.rule}"),
        detail=_detail(hit, limits),
        name=actor.name,
    )


def _detail(hit: Hit, limits: AccessSettings) -> Msg:
    minutes = _minutes(limits.window)
    if hit.rule == "outside":
        return Msg("access.detail.outside", window=minutes, count=hit.count)
    if hit.rule == "refusals":
        return Msg("access.detail.refusals", window=minutes, count=hit.count)
    if hit.usual is None:
        limit = limits.access_max_reads
        return Msg("access.detail.volume", window=minutes, count=hit.count, limit=limit)
    days = HISTORY.days
    if hit.usual == 0:  # a new account, or one that never read others' data before
        return Msg("access.detail.usual_none", window=minutes, count=hit.count, days=days)
    usual = usual_rate(hit.usual)
    return Msg("access.detail.usual", window=minutes, count=hit.count, usual=usual, days=days)


def usual_rate(usual: float) -> str:
    """An account's usual reads per window, never shown as 0 when it is not: one read a day
    is 0.04 an hour, which one decimal would round to a misleading 0.0."""
    return f"{usual:.1f}" if usual >= 1 else f"{usual:.2g}"
