"""`/access_log [NAME]` (admin): the recent alerts, then the recent reads of people's data with
who read, what, whose and when; with a name, those where that person read or was read, and
the commands refused to them."""

from typing import Any

from handlers.access.feature import feature
from handlers.common.lookup import find_member, who
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply
from handlers.core.registry import ADMIN_ONLY, Replies
from handlers.core.tracer import or_own
from storage import access
from storage.models import Trace

READS_SHOWN = 50
ALERTS_SHOWN = 10
REFUSALS_SHOWN = 10
# Refusal reasons with words in the catalog (access.reason.*): every reason a refusal is
# traced with (the router's, the web sign-in's "code"); tests/access/test_access.py checks the code.
REFUSAL_REASONS = frozenset({"role", "private", "branch", "scope", "missing", "code", "former"})
# data.what values with words in the catalog (access.what.*): every value a read or an
# export is traced with (tests/access/test_access.py finds them in the code). A value not here (a
# trace from another version) is shown by its kind alone, never as a raw key.
KNOWN_WHAT = frozenset(
    {
        "pipeline",
        "dues",
        "dues_owed",
        "thought_reports",
        "attendance",
        "mydata",
        "traces",
        "report.candidates",
        "report.awards",
        "report.scorecard",
        "report.record",
        "record",
        "scorecard",
        "inactive",
        "care",
        "care_excusals",
        "clusters",
        "feedback",
        "access_log",
        "member",
        "archive",
        "archive_file",
        "roster",
        "appraisal",
        "ledger",
        "backup",
        "web.school",
        "web.scorecard",
        "web.meetings",
        "web.report",
    }
)


@feature.command("access_log", roles=ADMIN_ONLY, aliases=("访问记录",), private_only=True)
async def access_log(ctx: Context, args: str) -> Replies:
    """Recent alerts and reads of people's data; traced as a view of the access log."""
    person = await find_member(ctx, args) if args else None
    person_id = person.id if person else None
    reads = await access.recent_reads(ctx.session, READS_SHOWN, person_id)
    alerts = await access.recent_alerts(ctx.session, ALERTS_SHOWN, person_id)
    people = {t.actor_id for t in reads} | {t.member_id for t in [*reads, *alerts]}
    names = await access.names(ctx.session, sorted(i for i in people if i is not None))
    branch_ids = {t.branch_id for t in reads if t.member_id is None and t.branch_id is not None}
    branches = await access.branch_names(ctx.session, sorted(branch_ids))
    await ctx.trace(
        "data.viewed",
        member_id=person_id,
        branch_id=or_own(person.branch_id if person else None),
        data={"what": "access_log"},
    )
    refused: Msg | str = ""
    if person is not None:
        found = await access.recent_refusals(ctx.session, REFUSALS_SHOWN, person.id)
        lines = [_refusal_line(t) for t in found] or [Msg("access.no_refusals")]
        refused = Msg("access.log_refusals", lines=lines)
    return Reply(
        Msg(
            "access.log",
            scope=Msg("access.log_person", who=who(person)) if person else Msg("access.log_all"),
            alerts=[_alert_line(t, names) for t in alerts] or [Msg("access.no_alerts")],
            reads=[_read_line(t, names, branches) for t in reads] or [Msg("access.no_reads")],
            shown=READS_SHOWN,
            refused=refused,
        )
    )


def _name(member_id: int, names: dict[int, str]) -> str:
    return names.get(member_id, f"#{member_id}")


def _alert_line(trace: Trace, names: dict[int, str]) -> Msg:
    data: dict[str, Any] = trace.data or {}
    actor = trace.member_id or data.get("actor")
    return Msg(
        "access.alert_line",
        at=trace.at,
        who=_name(int(actor), names) if actor else "-",
        rule=Msg(f"access.rule.{data.get('rule', 'volume')}"),
        count=data.get("count", "-"),
        window=data.get("window_minutes", "-"),
    )


def _refusal_line(trace: Trace) -> Msg:
    data: dict[str, Any] = trace.data or {}
    reason = data.get("reason")
    return Msg(
        "access.refusal_line",
        at=trace.at,
        command=data.get("command", "-"),
        reason=Msg(f"access.reason.{reason}") if reason in REFUSAL_REASONS else str(reason),
    )


def _read_line(trace: Trace, names: dict[int, str], branches: dict[int, str]) -> Msg:
    return Msg(
        "access.read_line",
        at=trace.at,
        who=_reader(trace, names),
        what=_what(trace),
        whose=_whose(trace, names, branches),
    )


def _reader(trace: Trace, names: dict[int, str]) -> Msg | str:
    if trace.actor_id is not None:
        return _name(trace.actor_id, names)
    return Msg("access.exporter_cli", user=(trace.data or {}).get("by") or "-")


def _what(trace: Trace) -> Msg:
    """The kind of read in words, with what was read where the trace names a known thing."""
    kind = Msg(f"access.kind.{trace.kind}")
    what = (trace.data or {}).get("what")
    if what not in KNOWN_WHAT:
        return kind
    return Msg("access.doing", kind=kind, what=Msg(f"access.what.{what}"))


def _whose(trace: Trace, names: dict[int, str], branches: dict[int, str]) -> Msg | str:
    if trace.member_id is not None:
        return _name(trace.member_id, names)
    if trace.branch_id is not None:
        return Msg("access.whose_branch", branch=branches.get(trace.branch_id, "-"))
    return Msg("access.whose_all")
