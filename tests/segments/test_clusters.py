"""/clusters on a synthetic school of three well-separated kinds (tests/support/segments.py):
the kinds recovered whole, each named by the indicators that set it apart, counted per branch,
no member named in chat or in the Excel file; admins only (a secretary refused and traced);
without scikit-learn the answer says how to install it."""

import io
import json
import sys

import pytest
from openpyxl import load_workbook

from handlers.care.clusters import FEATURES
from handlers.care.kmeans import cluster
from storage.enums import Role
from tests.support.chat import Chat
from tests.support.segments import SCHOOL, school
from tests.support.traces import traces_of


def test_too_few_or_alike_rows_make_no_clusters() -> None:
    assert cluster([{"attendance_rate": 1.0}, {"attendance_rate": 0.0}], FEATURES) is None
    alike = [{"attendance_rate": 0.5, "late_rate": None} for _ in range(10)]
    assert cluster(alike, FEATURES) is None


def test_separated_rows_are_recovered_with_what_sets_them_apart() -> None:
    rows = [{"attendance_rate": 1.0, "late_rate": 0.0}] * 5
    rows += [{"attendance_rate": 1.0, "late_rate": 0.8}] * 4
    rows += [{"attendance_rate": 0.1, "late_rate": None}] * 3
    result = cluster(rows, FEATURES)
    assert result is not None and result.k == 3 and result.silhouette == pytest.approx(1.0)
    assert [c.rows for c in result.clusters] == [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]
    late = result.clusters[1]
    assert late.standout[0][0] == "late_rate" and late.standout[0][1] > 1
    assert late.means["late_rate"] == pytest.approx(0.8)
    absent = result.clusters[2]
    assert absent.standout[0][0] == "attendance_rate" and absent.standout[0][1] < -1


async def test_the_school_kinds_are_recovered_and_counted_per_branch(chat: Chat) -> None:
    admin, kind_of = await school(chat)
    replies = await admin.send("/clusters")
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "正式党员和预备党员 19 人，自动分为 3 类" in text and "轮廓系数 1.00" in text
    # Each kind known by one of the two indicators that set it apart most (出勤率 and
    # 连续未参加组织生活月数 set 缺席 apart equally: either may come first).
    marks = {"每月学习资料偏高": "勤学", "迟到率偏高": "迟到", "出勤率偏低": "缺席"}
    found = {}
    for kind in text.split("\n第 ")[1:]:
        standout = kind.split("与全体相比：")[1].split("\n")[0].split("、")
        first_two = {item.split("（")[0] for item in standout[:2]}
        [name] = [k for mark, k in marks.items() if mark in first_two]
        found[name] = kind
    assert found["勤学"].startswith("1 类：7 人（37%）")  # the largest first
    assert "每月学习资料偏高（+1.3）、迟到率偏低（-1.1）" in found["勤学"]
    assert "：6 人（32%）" in found["迟到"] and "迟到率偏高（+1.3）" in found["迟到"]
    assert "出勤率偏低（-1.5）" in found["缺席"]
    assert "连续未参加组织生活月数偏高（+1.5）" in found["缺席"]
    for kind, shown in found.items():
        counts = shown.split("各支部：")[1].split("\n")[0]
        expected = {b: str(c[kind]) for b, c in SCHOOL.items() if c[kind]}
        assert dict(pair.split(" ") for pair in counts.split("、")) == expected, (kind, counts)
    assert not any(name in text for name in kind_of), "no member is named"
    assert "仅供参考，不作评价" in text and "不给任何人贴标签" in text
    [viewed] = await traces_of(chat.services, "clusters.viewed")
    assert viewed.data["members"] == 19 and viewed.data["k"] == 3
    assert sorted(viewed.data["sizes"]) == [6, 6, 7] and viewed.data["branches"] == 3
    assert not any(name in json.dumps(viewed.data, ensure_ascii=False) for name in kind_of)


async def test_the_excel_file_names_nobody_and_is_traced(chat: Chat) -> None:
    admin, kind_of = await school(chat)
    text, exported = await admin.send("/clusters xlsx")
    assert exported.file is not None and exported.file.name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(exported.file.content))
    assert book.sheetnames == ["聚类", "各支部", "说明"]
    kinds = list(book["聚类"].iter_rows(values_only=True))
    assert kinds[0][:3] == ("类别", "人数", "突出特征（与全体相比的标准分）")
    assert [row[1] for row in kinds[1:]] == [7, 6, 6]
    branches = {row[0]: row[1:] for row in book["各支部"].iter_rows(min_row=2, values_only=True)}
    assert set(branches) == set(SCHOOL) and sum(sum(c) for c in branches.values()) == 19
    cells = " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )
    assert not any(name in cells for name in kind_of if name != "组织员")
    assert "仅供参考，不作评价" in cells
    [trace] = await traces_of(chat.services, "data.exported")
    assert trace.data == {"what": "clusters", "format": "xlsx", "rows": 3}
    assert f"#{trace.id}" in chat.services.renderer.render(exported.text)  # type: ignore[arg-type]
    assert text.file is None


async def test_only_admins_and_a_missing_scikit_learn_is_said(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _ = await school(chat)
    secretary = await chat.bound("书记", role=Role.SECRETARY, branch="甲支部")
    assert "Traceback" not in await secretary.say("/clusters")
    [refused] = await traces_of(chat.services, "access.refused")
    assert refused.data["reason"] == "role" and refused.data["command"] == "clusters"
    assert "格式不对" in await admin.say("/clusters pdf")
    for name in ("sklearn", "sklearn.cluster", "sklearn.metrics"):
        monkeypatch.setitem(sys.modules, name, None)  # as if never installed: import fails
    missing = await admin.say("/clusters")
    assert "需要 scikit-learn" in missing and "pip install 'branchbot[analysis]'" in missing
    assert await traces_of(chat.services, "clusters.viewed") == []
