"""The Excel form of /clusters: the kinds (size, what sets each apart, the mean of each
indicator), the count of each kind in each branch, and notes (what the file is and is not,
the window, k and its silhouette, who exported it). No member is named in it."""

import math
from dataclasses import dataclass
from typing import Any

from handlers.care.kmeans import Cluster, Clustering
from handlers.common.cells import xlsx_append, xlsx_bytes

# The file is Chinese, as every export is (the chat's words are in locales/).
WORDS = {
    "attendance_rate": "出勤率",
    "late_rate": "迟到率",
    "online_rate": "线上参会率",
    "learned_per_month": "每月学习资料",
    "quiz_day_rate": "答题天数占比",
    "quiz_accuracy": "答题正确率",
    "ack_rate": "通知确认率",
    "dues_months_behind": "欠缴党费月数",
    "months_without_life": "连续未参加组织生活月数",
}
CAVEAT = "聚类仅供参考，不作评价：按记录自动归类，不改变任何人的状态，不给任何人贴标签。"


@dataclass(frozen=True)
class Kind:
    number: int
    cluster: Cluster
    branches: list[tuple[str, int]]  # (branch name, members of the kind), most first


def _standout(c: Cluster) -> str:
    return "；".join(f"{WORDS.get(f, f)} {z:+.1f}" for f, z in c.standout)


def _kind_rows(result: Clustering, kinds: list[Kind]) -> list[list[Any]]:
    header = ["类别", "人数", "突出特征（与全体相比的标准分）"]
    header += [f"{WORDS.get(f, f)}（平均）" for f in result.features]
    rows: list[list[Any]] = [header]
    for kind in kinds:
        c = kind.cluster
        means = ["" if math.isnan(c.means[f]) else round(c.means[f], 3) for f in result.features]
        rows.append([f"第 {kind.number} 类", len(c.rows), _standout(c), *means])
    return rows


def _branch_rows(kinds: list[Kind]) -> list[list[Any]]:
    names = sorted({name for kind in kinds for name, _ in kind.branches})
    counts = {(kind.number, name): n for kind in kinds for name, n in kind.branches}
    rows: list[list[Any]] = [["支部", *(f"第 {k.number} 类" for k in kinds)]]
    rows += [[name, *(counts.get((k.number, name), 0) for k in kinds)] for name in names]
    return rows


def clusters_workbook(
    result: Clustering, kinds: list[Kind], span: str, author: str, mark: str
) -> bytes:
    """The workbook; `author` and `mark` (the watermark line) go into its properties and
    its notes, so the file names its exporter wherever it travels."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.properties.creator = book.properties.lastModifiedBy = author
    book.properties.description = mark
    sheets = [("聚类", _kind_rows(result, kinds)), ("各支部", _branch_rows(kinds))]
    first = book.active
    assert first is not None
    for index, (title, rows) in enumerate(sheets):
        sheet = first if index == 0 else book.create_sheet(title)
        sheet.title = title
        for row in rows:
            xlsx_append(sheet, row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    for line in (
        CAVEAT,
        f"时间范围：{span}",
        f"类别数 k = {result.k}（在 2–6 中按轮廓系数选定，轮廓系数 {result.silhouette:.2f}）",
        "方法：各项指标标准化（缺失取平均）后做 k-means；突出特征为该类平均的标准分。",
        mark,
    ):
        xlsx_append(notes, [line])
    return xlsx_bytes(book)
