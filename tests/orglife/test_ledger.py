"""The ledger (台账): a year of meetings with every kind of attendance, minutes as text and as a
document, photos and a vote, written as Word, PDF and JSON and read back; the export traced
and watermarked, the file owner-only, another branch's secretary refused."""

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from docx import Document
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from bot.app.services import Services
from bot.reports.ledger import ledger_file
from bot.web.pages import add_web_pages
from bot.web.server import build_web_app
from handlers.access.watermark import exporter, watermark
from handlers.orglife.ledger import Ledger, build_ledger
from storage import meetings, minutes, people
from storage.enums import MeetingKind, MeetingStatus, Presence, Role, Stage
from storage.minutes_models import Minutes
from storage.models import Meeting, OutboxMessage
from storage.vote_models import Vote
from tests.conftest import Cli, Threaded
from tests.support.chat import Chat
from tests.support.traces import traces_of
from tests.support.web import ask_code, csrf_of, sign_in, staff

BRANCH = "化学化工学院第一党支部"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT = "会议讨论了赵六同学的入党申请。\n与会同志一致认为赵六同学符合条件。"
DOCUMENT = "四月支委会记录.docx"


def picture(fmt: str, colour: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def at(month: int, day: int, hour: int = 14) -> datetime:
    return datetime(2026, month, day, hour, 30, tzinfo=SHANGHAI).astimezone(UTC)


async def meeting(
    services: Services, branch_id: int | None, kind: str, when: datetime, **more: Any
) -> int:
    async with services.sessions() as session, session.begin():
        row = Meeting(
            branch_id=branch_id,
            kind=kind,
            title=more.pop("title", kind),
            starts_at=when,
            checkin_secret="A" * 32,
            created_at=when,
            status=more.pop("status", MeetingStatus.FINISHED),
            **more,
        )
        session.add(row)
        await session.flush()
        return row.id


async def year_of_meetings(chat: Chat) -> dict[str, int]:
    """Members enrolled on 2 January, then the year's meetings; the ids by name."""
    chat.clock.now = datetime(2026, 1, 2, 1, 0, tzinfo=UTC)
    ids = {"书记": await staff(chat, "书记")}
    for name, role, stage in (
        ("李四", Role.COMMITTEE, Stage.FULL),
        ("张三", Role.MEMBER, Stage.FULL),
        ("王五", Role.MEMBER, Stage.FULL),
        ("钱七", Role.MEMBER, Stage.FULL),
        ("赵六", Role.MEMBER, Stage.PROBATIONARY),
    ):
        ids[name], _ = await chat.enrol(name, role=role, stage=stage)
    await chat.enrol("孙八", branch="数学学院教工党支部")
    services = chat.services
    async with services.sessions() as session:
        branch = await people.branch_by_name(session, BRANCH)
        other = await people.branch_by_name(session, "数学学院教工党支部")
    assert branch is not None and other is not None
    ids["branch"] = branch.id
    ids["assembly"] = await meeting(
        services,
        branch.id,
        MeetingKind.ASSEMBLY,
        at(3, 10),
        title="接收预备党员",
        place="化工楼301",
    )
    ids["committee"] = await meeting(
        services,
        branch.id,
        MeetingKind.COMMITTEE,
        at(4, 8),
        title="四月支委会",
        online_link="https://meet.example/4",
    )
    ids["theme"] = await meeting(
        services, None, MeetingKind.THEME_DAY, at(5, 20), title="全校主题党日", place="大礼堂"
    )
    await meeting(
        services, branch.id, MeetingKind.LECTURE, at(6, 1), status=MeetingStatus.CANCELLED
    )
    await meeting(services, other.id, MeetingKind.LECTURE, at(6, 2), title="别的支部的党课")
    async with services.sessions() as session, session.begin():
        box, first = services.box, ids["assembly"]
        for name, presence, late in (
            ("书记", Presence.PRESENT, False),
            ("李四", Presence.PRESENT, True),
            ("张三", Presence.ONLINE, False),
            ("王五", Presence.EXCUSED, False),
            ("钱七", Presence.ABSENT, False),
            ("赵六", Presence.PRESENT, False),
        ):
            await meetings.record(session, first, ids[name], presence, at(3, 10), late=late)
        await meetings.record(session, ids["committee"], ids["书记"], Presence.ONLINE, at(4, 8))
        for version, body in ((1, "初稿"), (2, TEXT)):
            session.add(
                Minutes(
                    meeting_id=first,
                    version=version,
                    body_enc=box.encrypt(body),
                    topics=["讨论接收赵六为预备党员", "学习党章"],
                    host_id=ids["书记"],
                    recorder_id=ids["李四"],
                    submitted_at=at(3, 11),
                )
            )
        session.add(
            Minutes(
                meeting_id=ids["committee"],
                version=1,
                document_name=DOCUMENT,
                document_enc=box.encrypt_bytes(b"PK\x03\x04"),
                topics=["四月工作"],
                submitted_at=at(4, 9),
            )
        )
        for name, content in (
            ("合影.png", picture("PNG", "red", (400, 300))),
            ("签到.jpg", picture("JPEG", "blue", (300, 600))),
        ):
            await minutes.add_photo(session, box, first, name, "image/*", content, None, at(3, 11))
        result = {"for": 4, "against": 0, "abstain": 1, "cast": 5, "electors": 5, "passed": True}
        session.add(
            Vote(
                kind="admission",
                branch_id=branch.id,
                meeting_id=first,
                subject_id=ids["赵六"],
                entitled=5,
                opened_at=at(3, 10),
                closed_at=at(3, 10, 15),
                result=result,
            )
        )
        elected = {"votes": {}, "cast": 5, "electors": 5, "entitled": 5, "elected": [ids["李四"]]}
        session.add(
            Vote(
                kind="election",
                branch_id=branch.id,
                meeting_id=first,
                seats=1,
                candidates=[ids["李四"], ids["赵六"]],
                entitled=5,
                opened_at=at(3, 10, 16),
                closed_at=at(3, 10, 17),
                result=elected | {"tied": []},
            )
        )
    chat.clock.now = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)
    return ids


async def the_ledger(chat: Chat) -> Ledger:
    async with chat.services.sessions() as session:
        branch = await people.branch_by_name(session, BRANCH)
        assert branch is not None
        return await build_ledger(session, chat.services.box, branch, 2026, chat.clock(), SHANGHAI)


def written(chat: Chat, ledger: Ledger, fmt: str) -> bytes:
    mark = watermark(exporter("测试员"), chat.clock(), 99)
    content, _ = ledger_file(fmt, chat.services.renderer, ledger, mark)
    return content


async def test_the_json_holds_every_field(chat: Chat) -> None:
    ids = await year_of_meetings(chat)
    data = json.loads(written(chat, await the_ledger(chat), "json"))
    assert data["branch"] == {"id": ids["branch"], "name": BRANCH} and data["year"] == 2026
    assert "测试员" in data["watermark"] and "99" in data["watermark"]
    assert [m["id"] for m in data["meetings"]] == [ids["assembly"], ids["committee"], ids["theme"]]
    first, committee, theme = data["meetings"]
    assert (first["kind"], first["title"], first["place"]) == (
        "assembly",
        "接收预备党员",
        "化工楼301",
    )
    assert first["starts_at"] == "2026-03-10T06:30:00+00:00" and not first["school_wide"]
    att = first["attendance"]

    def names(key: str) -> list[str]:
        return [p["name"] for p in att[key]]

    assert names("expected") == ["书记", "李四", "张三", "王五", "钱七", "赵六"]
    assert (names("present"), names("online")) == (["书记", "李四", "赵六"], ["张三"])
    assert (names("excused"), names("absent"), names("late")) == (["王五"], ["钱七"], ["李四"])
    assert att["unrecorded"] == [] and att["present"][1]["late"] is True
    record = first["record"]
    assert (record["version"], record["versions"], record["text"]) == (2, 2, TEXT)
    assert record["topics"] == ["讨论接收赵六为预备党员", "学习党章"]
    assert (record["host"], record["recorder"], record["document"]) == ("书记", "李四", None)
    photos = first["photos"]
    assert [p["name"] for p in photos] == ["合影.png", "签到.jpg"]
    assert all(len(p["sha256"]) == 64 and p["size"] > 0 and "content" not in p for p in photos)
    (vote, election) = first["votes"]
    assert (election["kind"], election["subject"], election["elected"]) == (
        "election",
        "",
        [ids["李四"]],
    )
    assert (vote["kind"], vote["subject"], vote["for"], vote["abstain"]) == (
        "admission",
        "赵六",
        4,
        1,
    )
    assert vote["passed"] is True and vote["closed"] is True and vote["entitled"] == 5
    # A 支委会 expects the committee only; the one not recorded is listed as such.
    assert [p["name"] for p in committee["attendance"]["expected"]] == ["书记", "李四"]
    assert [p["name"] for p in committee["attendance"]["unrecorded"]] == ["李四"]
    assert committee["record"]["document"] == DOCUMENT and committee["record"]["text"] == ""
    assert committee["online_link"] == "https://meet.example/4"
    # The school-wide 主题党日: this branch's people only, no one from the other branch.
    assert theme["school_wide"] and theme["record"] is None
    assert "孙八" not in json.dumps(theme, ensure_ascii=False)
    summary = {(s["rule"], s["since"]): s for s in data["summary"]}
    rule = {s["kind"]: s["rule"] for s in data["summary"]}
    q1 = summary[(rule["assembly"], "2026-01-01")]
    assert (q1["held"], q1["needed"], q1["met"], q1["ended"]) == (1, 1, True, True)
    assert summary[(rule["assembly"], "2026-04-01")]["met"] is False
    assert summary[(rule["committee"], "2026-04-01")]["held"] == 1
    assert summary[(rule["theme_day"], "2026-05-01")]["held"] == 1
    december = summary[(rule["committee"], "2026-12-01")]
    assert (december["held"], december["ended"]) == (0, False)
    assert len([s for s in data["summary"] if s["rule"] == rule["committee"]]) == 12


async def test_word_and_pdf_read_back_in_chinese_with_the_photos(chat: Chat) -> None:
    await year_of_meetings(chat)
    ledger = await the_ledger(chat)
    wanted = [
        "化学化工学院第一党支部 2026 年度组织生活台账",
        "接收预备党员",
        "讨论接收赵六为预备党员",
        "与会同志一致认为赵六同学符合条件",
        "李四（迟到）",
        "钱七",
        "王五",
        DOCUMENT,
        "接收为预备党员",
        "通过",
        "换届选举",
        "当选 1 人",
        "测试员",
        "已达标",
        "未达标",
        "https://meet.example/4",
    ]
    doc = Document(io.BytesIO(written(chat, ledger, "docx")))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    words = "\n".join([p.text for p in doc.paragraphs] + cells)
    assert [w for w in wanted if w not in words] == []
    assert "初稿" not in words and "别的支部的党课" not in words
    assert len(doc.inline_shapes) == 2
    assert "测试员" in doc.sections[0].header.paragraphs[0].text
    assert "测试员" in (doc.core_properties.comments or "")
    content = written(chat, ledger, "pdf")
    reader = PdfReader(io.BytesIO(content))
    # pypdf reads fpdf2's embedded font codes with a NUL before each character.
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    squeezed = "".join(text.split())
    assert [w for w in wanted if "".join(w.split()) not in squeezed] == []
    assert sum(len(p.images) for p in reader.pages) == 2
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    descendants = [d.get_object() for f in fonts for d in f.get("/DescendantFonts", [])]
    assert any(
        "/FontFile3" in d["/FontDescriptor"] or "/FontFile2" in d["/FontDescriptor"]
        for d in descendants
    ), "the Chinese font must be embedded"


async def test_the_command_line_writes_an_owner_only_traced_file(
    chat: Chat, cli: Cli, tmp_path: Path
) -> None:
    await year_of_meetings(chat)
    run = Threaded(cli)
    out = tmp_path / "台账.pdf"
    result = await run("ledger", "--branch", BRANCH, "--year", "2026", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "3 次会议" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_bytes().startswith(b"%PDF")
    (exported,) = await traces_of(chat.services, "data.exported")
    assert {k: exported.data[k] for k in ("what", "format", "branch", "year")} == {
        "what": "ledger",
        "format": "pdf",
        "branch": BRANCH,
        "year": 2026,
    }
    as_json = tmp_path / "ledger"
    result = await run(
        "ledger", "--branch", BRANCH, "--year", "2026", "--format", "json", "-o", str(as_json)
    )
    assert result.exit_code == 0, result.output
    second = (await traces_of(chat.services, "data.exported"))[-1]
    assert f"留痕编号：{second.id}" in json.loads(as_json.read_text())["watermark"]
    bad = await run("ledger", "--branch", BRANCH, "--year", "2026", "-o", str(tmp_path / "a.txt"))
    assert bad.exit_code != 0 and "docx、pdf 或 json" in bad.output
    assert len(await traces_of(chat.services, "data.exported")) == 2


@pytest.fixture
async def client(services: Services) -> Any:
    app = build_web_app({}, None, lambda app: add_web_pages(app, services))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_web_page_downloads_the_ledger_for_its_own_branch_only(
    chat: Chat, services: Services, client: TestClient[Any, Any]
) -> None:
    ids = await year_of_meetings(chat)
    page = await sign_in(client, services, "书记", ids["书记"])
    assert "ledger?format=docx&amp;year=2026" in page
    url = f"/web/branch/{ids['branch']}/ledger"
    got = await client.get(url, params={"format": "docx", "year": "2026"})
    assert got.status == 200 and "attachment" in got.headers["Content-Disposition"]
    doc = Document(io.BytesIO(await got.read()))
    assert "书记" in doc.sections[0].header.paragraphs[0].text
    (exported,) = await traces_of(services, "data.exported")
    assert exported.actor_id == ids["书记"] and exported.data["what"] == "ledger"
    assert (await client.get(url, params={"format": "xlsx"})).status == 400
    assert (await client.get(url, params={"format": "pdf", "year": "20x6"})).status == 400
    await client.post("/web/logout", data={"csrf": csrf_of(page)}, allow_redirects=False)
    signed_out = await client.get(url, params={"format": "json"}, allow_redirects=False)
    assert signed_out.status in (302, 303) and "login" in signed_out.headers["Location"]
    other = await staff(chat, "数学书记", branch="数学学院教工党支部")
    await sign_in(client, services, "数学书记", other)
    refused = await client.get(url, params={"format": "json", "year": "2026"})
    assert refused.status == 403
    assert len(await traces_of(services, "data.exported")) == 1
    assert any(t.actor_id == other for t in await traces_of(services, "access.refused"))
    # A plain member gets no sign-in code, so never a page to download from.
    assert (await ask_code(client, "张三")).status == 200  # the same answer, so no hint
    async with services.sessions() as session:
        codes = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.member_id == ids["张三"], OutboxMessage.kind == "web.login"
            )
        )
        assert codes.all() == []
