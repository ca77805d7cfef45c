"""`/clusters` (admin, 成员聚类): the school's current full and probationary members in kinds
found by k-means over their indicators (kmeans.py, over the window of data/segments.toml);
each kind with its size, the indicators that set it apart and its count in each branch, never
a name. `/clusters xlsx`: the same as an Excel file.

Like /segments it informs and never labels, and says so; nothing is stored. Viewing is traced
(clusters.viewed, the counts only), an export as data.exported. Without scikit-learn (the
optional extra "analysis") the answer says how to install it.
"""

from collections import Counter

from handlers.access.watermark import watermark_fields
from handlers.care.clusters_file import Kind, clusters_workbook
from handlers.care.feature import feature
from handlers.care.kmeans import AnalysisMissing, Cluster, Clustering, cluster
from handlers.care.profile import INDICATORS, Profile, profiles, window
from handlers.care.segments import rules_of
from handlers.core.context import Context
from handlers.core.messages import FileOut, Msg, Reply, Series, UserError
from handlers.core.registry import ADMIN_ONLY, Replies
from storage import people

# Behaviour, not circumstance (being on placement or new is no kind of member), and one
# measure of dues and of meetings each (the runs of the six-month rule repeat them).
LEFT_OUT = ("meetings_expected", "months_unpaid", "remote", "new_this_term", "days_in_window")
FEATURES = tuple(i for i in INDICATORS if i not in LEFT_OUT)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BRANCHES_SHOWN = 8  # branches named per kind in chat; the file has them all


def kinds_of(result: Clustering, found: list[Profile], names: dict[int, str]) -> list[Kind]:
    """Each cluster with its members' branches counted (by name, most first)."""
    return [
        Kind(
            number,
            c,
            Counter(names.get(found[i].branch_id, "-") for i in c.rows).most_common(),
        )
        for number, c in enumerate(result.clusters, start=1)
    ]


def _standout(c: Cluster) -> Series:
    return Series(
        Msg(
            "care.clusters.feature",
            name=Msg(f"care.indicator.{feature}"),
            way=Msg("care.clusters.high" if z > 0 else "care.clusters.low"),
            z=f"{z:+.1f}",
        )
        for feature, z in c.standout
    )


def _kind_msg(kind: Kind, total: int) -> Msg:
    shown = Series(
        Msg("care.clusters.branch", name=name, count=n)
        for name, n in kind.branches[:BRANCHES_SHOWN]
    )
    more = len(kind.branches) - BRANCHES_SHOWN
    return Msg(
        "care.clusters.kind",
        number=kind.number,
        size=len(kind.cluster.rows),
        share=f"{len(kind.cluster.rows) / total:.0%}",
        standout=_standout(kind.cluster),
        branches=shown,
        more=Msg("care.clusters.more_branches", count=more) if more > 0 else "",
    )


@feature.command("clusters", roles=ADMIN_ONLY, aliases=("成员聚类",), private_only=True)
async def clusters_view(ctx: Context, args: str) -> Replies:
    """The school's members in kinds by k-means, per branch counted; `xlsx`: as a file."""
    asked = args.strip().lower()
    if asked not in ("", "xlsx", "excel"):
        raise UserError("usage", usage=Msg("cmd.clusters.usage"))
    rules = rules_of(ctx)
    found = await profiles(ctx.session, None, ctx.options, ctx.now, rules.window_months)
    try:
        result = cluster([p.values for p in found], FEATURES)
    except AnalysisMissing:
        return Reply(Msg("care.clusters.missing"))
    if result is None:
        return Reply(Msg("care.clusters.too_few", members=len(found)))
    names = {b.id: b.name for b in await people.all_branches(ctx.session)}
    kinds = kinds_of(result, found, names)
    span = window(ctx.today, rules.window_months)
    await ctx.trace(
        "clusters.viewed",
        branch_id=None,
        data={
            "members": len(found),
            "k": result.k,
            "silhouette": round(result.silhouette, 3),
            "sizes": [len(c.rows) for c in result.clusters],
            "branches": len({p.branch_id for p in found}),
            "window": span.label,
        },
    )
    text = Msg(
        "care.clusters.view",
        months=rules.window_months,
        window=span.label,
        members=len(found),
        k=result.k,
        silhouette=f"{result.silhouette:.2f}",
        kinds=[_kind_msg(kind, len(found)) for kind in kinds],
        caveat=Msg("care.clusters.caveat"),
    )
    if not asked:
        return Reply(text)
    return [Reply(text), await _export(ctx, result, kinds, span.label)]


async def _export(ctx: Context, result: Clustering, kinds: list[Kind], span: str) -> Reply:
    """The kinds as a workbook naming its exporter (data.exported, what: clusters)."""
    exported = await ctx.trace(
        "data.exported",
        branch_id=None,
        data={"what": "clusters", "format": "xlsx", "rows": len(kinds)},
    )
    caller = ctx.require_caller()
    at = ctx.now.astimezone(ctx.options.timezone)
    facts = watermark_fields(caller.name, caller.id, at, exported.id)
    mark = " | ".join(f"{k}={v}" for k, v in facts.items())
    content = clusters_workbook(result, kinds, span, f"{caller.name} #{caller.id}", mark)
    name = f"clusters-{ctx.today.isoformat()}.xlsx"
    return Reply(
        Msg("care.clusters.exported", trace=exported.id), file=FileOut(name, content, XLSX)
    )
