"""Scorecard files (考评表) in Excel, CSV, JSON or PNG, for `branchbot report` and the web
page's downloads. Every file carries the export's watermark, the reminder that the figures
support the branch's judgement, and, when the trace chain is broken, the warning that they
cannot be trusted."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from handlers.common.cells import csv_bytes
from handlers.common.charts import Bars, panels_chart
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg
from handlers.evaluation.scorecard import BranchScorecard, IndicatorScore, MemberScore
from handlers.evaluation.text import chain_note, chain_warning, figure, why

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "png": "image/png",
}
FORMATS = tuple(MIME)


def scorecard_file(
    fmt: str, renderer: Renderer, cards: list[BranchScorecard], mark: Msg
) -> tuple[bytes, str]:
    """The scorecards in one file of format `fmt` (xlsx, csv, json, png) and its mime type."""
    if fmt not in MIME:
        raise ValueError(f"unknown scorecard format {fmt!r}")
    writer: Callable[[Renderer, list[BranchScorecard], Msg], bytes] = {
        "xlsx": _xlsx,
        "csv": _csv,
        "json": _json,
        "png": _png,
    }[fmt]
    return writer(renderer, cards, mark), MIME[fmt]


def file_notes(renderer: Renderer, cards: Sequence[BranchScorecard], mark: Msg) -> list[str]:
    """The lines heading every file: a broken chain first, then what the figures are for."""
    lines = []
    warning = chain_warning(cards[0].chain) if cards else None
    note = chain_note(cards[0].chain) if cards else None
    lines += [renderer.render(m) for m in (warning, note) if m is not None]
    if cards:
        card = cards[0]
        lines.append(
            renderer.render(
                Msg("evaluation.file_period", period=card.period.label, version=card.version)
            )
        )
    lines.append(renderer.render(Msg("evaluation.disclaimer")))
    lines.append(renderer.render(mark))
    return lines


def shown_score(renderer: Renderer, found: IndicatorScore) -> Any:
    return renderer.render(why(found.excluded)) if found.excluded else found.rate


def member_values(renderer: Renderer, card: BranchScorecard, m: MemberScore) -> list[Any]:
    values: list[Any] = [
        card.branch_name,
        m.name,
        renderer.render(Msg(f"stage.{m.stage}")),
        m.total if m.rank is not None else None,
        m.rank,
        m.previous_total,
        m.trend,
    ]
    for indicator in card.indicators:
        found = m.indicators[indicator.id]
        values += [figure(found.raw), found.base, shown_score(renderer, found), found.points]
    return values


def member_headers(renderer: Renderer, card: BranchScorecard) -> list[str]:
    heads = [renderer.render(Msg(f"evaluation.col.{k}")) for k in MEMBER_COLUMNS]
    for indicator in card.indicators:
        for part in ("raw_of", "base_of", "rate_of", "points_of"):
            heads.append(renderer.render(Msg(f"evaluation.col.{part}", name=indicator.name)))
    return heads


MEMBER_COLUMNS = ("branch", "name", "stage", "total", "rank", "previous", "trend")


def _json(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    warning = chain_warning(cards[0].chain) if cards else None
    out = {
        "watermark": renderer.render(mark),
        "warning": renderer.render(warning) if warning else None,
        "disclaimer": renderer.render(Msg("evaluation.disclaimer")),
        "chain": {
            "ok": cards[0].chain.ok if cards else True,
            "checked_to": cards[0].chain.checked_to if cards else 0,
            "bad_id": cards[0].chain.bad_id if cards else None,
            "walked_at": cards[0].chain.walked_at if cards else None,
            "walked_to": cards[0].chain.walked_to if cards else 0,
        },
        "branches": [_json_card(renderer, c) for c in cards],
    }
    return json.dumps(out, ensure_ascii=False, indent=2, default=str).encode()


def _json_card(renderer: Renderer, card: BranchScorecard) -> dict[str, Any]:
    return {
        "branch": card.branch_name,
        "period": {
            "label": card.period.label,
            "since": card.period.since.isoformat(),
            "until": card.period.until.isoformat(),
        },
        "version": card.version,
        "indicators": [
            {
                "id": i.id,
                "name": i.name,
                "group": i.group,
                "weight": i.weight,
                "target": i.target,
                "description": i.description,
            }
            for i in card.indicators
        ],
        "total": card.total,
        "trend": card.trend,
        "rates": card.branch_rates,
        "median_ack_seconds": card.median_ack_seconds,
        "members": [
            {
                "id": m.member_id,
                "name": m.name,
                "stage": m.stage,
                "total": m.total if m.rank is not None else None,
                "rank": m.rank,
                "previous_total": m.previous_total,
                "indicators": {
                    key: {
                        "raw": s.raw,
                        "base": s.base,
                        "rate": s.rate,
                        "points": s.points,
                        "excluded": s.excluded,
                        "why": renderer.render(why(s.excluded)) if s.excluded else None,
                        "median_seconds": s.median_seconds,
                    }
                    for key, s in m.indicators.items()
                },
            }
            for m in card.members
        ],
        "meetings": [
            {
                "id": r.meeting_id,
                "title": r.title,
                "kind": r.kind,
                "starts_at": r.starts_at.isoformat(),
                "counts": r.counts,
                "absent": r.absent,
                "excused": r.excused,
                "late": r.late,
            }
            for r in card.meetings
        ],
    }


def _csv(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    rows: list[list[Any]] = [[line] for line in file_notes(renderer, cards, mark)]
    if cards:
        rows.append(member_headers(renderer, cards[0]))
    rows += [member_values(renderer, card, m) for card in cards for m in card.members]
    return csv_bytes(rows)


def _png(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    title = "\n".join(file_notes(renderer, cards, mark))
    if len(cards) == 1:
        ranked = cards[0].ranked
        labels = [m.name for m in ranked]
        values = [m.total for m in ranked]
    else:
        labels = [c.branch_name for c in cards]
        values = [c.total or 0.0 for c in cards]
    if not labels:
        labels, values = ["-"], [0.0]
    return panels_chart([Bars(title, labels, values, [f"{v:g}" for v in values])])


def _xlsx(renderer: Renderer, cards: list[BranchScorecard], mark: Msg) -> bytes:
    # Imported here: openpyxl (with numpy, lxml and PIL, which it imports) is a tenth of an
    # idle service's memory, for a download few ask for (docs/performance.md).
    from bot.reports.scorecard_xlsx import scorecard_xlsx

    return scorecard_xlsx(renderer, cards, mark)
