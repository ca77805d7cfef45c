"""`branchbot demo`: a demo branch in its own SQLite file and a scripted conversation.

It shows every capability present so far, printing both sides, then (on a terminal) hands
over to the console as the branch secretary. No token and no network are needed.
"""

import asyncio
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from bot.app.services import Services, build_services
from bot.app.settings import Settings, load_settings
from bot.channels.console import PLATFORM as CONSOLE
from bot.channels.console import ConsoleChat, ConsoleTransport, interact
from bot.channels.outbox import Limits
from bot.serve import start_sender
from handlers.account.members import NewMember, add_branch, add_member, issue_invite
from handlers.core.messages import Msg, Reply
from handlers.study.answers import LETTERS, blanks
from handlers.study.bank import import_bank, starter_bank
from handlers.study.documents import read_document
from handlers.study.materials import NewMaterial, add_material
from storage import chain, outbox, quizzes, schema
from storage.crypto import SecretBox
from storage.enums import QuestionKind, Role, Stage
from storage.models import Quiz

BRANCH = "化学化工学院学生第一党支部"
MATERIALS = Path(__file__).parent / "demo_materials"
# No platform limits in a terminal; the first retry comes quickly.
DEMO_LIMITS = Limits(per_second=1000, chat_per_second=1000, retry_base=0.1)


@dataclass
class Persona:
    label: str  # how the transcript names the speaker
    name: str
    role: Role = Role.MEMBER
    stage: Stage = Stage.FULL
    remote_until: date | None = None
    code: str = ""


def _personas(today: date) -> list[Persona]:
    return [
        Persona("书记", "张红", Role.SECRETARY),
        Persona("党员", "李明"),
        Persona("预备党员", "王芳", stage=Stage.PROBATIONARY),
        Persona("实习生", "陈实", remote_until=today + timedelta(days=150)),
    ]


# (speaker label, what they type); "{code:NAME}" is replaced by that person's invite code.
SCRIPT: list[tuple[str, str, str]] = [
    ("bind", "书记", "/start {code:张红}"),
    ("bind", "书记", "/help"),
    ("bind", "党员", "你好"),
    ("bind", "党员", "/start"),
    ("bind", "党员", "{code:李明}"),
    ("bind", "预备党员", "/start {code:王芳}"),
    ("bind", "实习生", "/start {code:陈实}"),
    ("invite", "书记", "/invite 刘洋 入党积极分子"),
    ("invite", "新成员", "/start {code:刘洋}"),
    ("invite", "新成员", "帮助"),
    ("record", "实习生", "/me"),
    ("record", "预备党员", "/mydata"),
    ("notice", "书记", "/broadcast 本周五下午2点在化工楼301召开支部党员大会，实习党员请线上参加。"),
    ("notice", "党员", "1"),
    ("notice", "实习生", "收到"),
    ("notice", "书记", "/notice_status 1"),
    ("notice", "书记", "/notice_remind 1"),
    (
        "meeting",
        "书记",
        "/meeting_new {soon} | 主题党日 | 学习全会精神 | 化工楼301 | https://meeting.example/1",
    ),
    ("meeting", "党员", "/meetings"),
    ("meeting", "预备党员", "/leave 1 在外参加学科竞赛"),
    ("meeting", "书记", "1"),
    ("meeting", "书记", "/checkin_open 1"),
    ("meeting", "党员", "签到 {code:checkin}"),
    ("meeting", "实习生", "签到 {code:checkin}"),
    ("meeting", "党员", "签到 {code:checkin}"),
    ("meeting", "新成员", "签到 000000"),
    ("meeting", "书记", "/attendance 1"),
    ("study", "党员", "/quiz"),
    ("study", "党员", "{answer}"),
    ("study", "党员", "{wrong}"),
    ("study", "党员", "{answer}"),
    ("study", "党员", "/mistakes"),
    ("study", "党员", "{answer}"),
    ("study", "党员", "/rank"),
    ("study", "党员", "/study"),
    ("study", "实习生", "/search 实习期间怎么参加组织生活"),
    ("study", "预备党员", "搜索 转正"),
    (
        "study",
        "书记",
        "/material_add 预备党员转正流程 | 预备期满前提出书面转正申请，支部大会讨论表决。",
    ),
    ("pipeline", "书记", "/stage 刘洋 入党申请人 {days:-420}"),
    ("pipeline", "书记", "/talk 刘洋 {days:-405} 了解入党动机"),
    ("pipeline", "书记", "/stage 刘洋 入党积极分子 {days:-380} 支委会研究确定"),
    ("pipeline", "书记", "/contact 刘洋 李明 {days:-378}"),
    ("pipeline", "党员", "/talk 刘洋 {days:-20} 谈学习和思想情况"),
    (
        "pipeline",
        "新成员",
        "/thought 近一个月来，我认真学习了党的二十大报告，对全心全意为人民服务有了更深的认识。",
    ),
    ("pipeline", "党员", "/thoughts"),
    ("pipeline", "党员", "/thought_read 1 认识比较深刻，希望在志愿服务中多锻炼。"),
    ("pipeline", "书记", "/pipeline 刘洋"),
    ("pipeline", "书记", "/candidates"),
    ("records", "预备党员", "/volunteer {days:-1} 2 社区义诊志愿服务"),
    ("records", "书记", "/volunteer_approve 1"),
    ("records", "书记", "/dues_record 王芳 {month} 0.2"),
    ("records", "预备党员", "/dues"),
    ("survey", "书记", "/survey_new"),
    ("survey", "书记", "下学期党课选题调查"),
    ("survey", "书记", "1"),
    ("survey", "书记", "您最希望学习哪个专题？"),
    ("survey", "书记", "党史、党章、时事政治"),
    ("survey", "书记", "4"),
    ("survey", "书记", "您对支部学习还有什么建议？"),
    ("survey", "书记", "5"),
    ("survey", "书记", "1"),
    ("survey", "书记", "{days:7}"),
    ("survey", "书记", "1"),
    ("survey", "书记", "1"),
    ("survey", "党员", "/survey 1"),
    ("survey", "党员", "1"),
    ("survey", "党员", "希望多组织志愿服务，也想系统学习党史。"),
    ("survey", "预备党员", "/survey 1"),
    ("survey", "预备党员", "1"),
    ("survey", "预备党员", "党史学习可以结合参观红色教育基地。"),
    ("survey", "实习生", "/survey 1"),
    ("survey", "实习生", "3"),
    ("survey", "实习生", "实习期间希望多一些线上党课和志愿服务机会。"),
    ("survey", "书记", "/survey_results 1"),
    ("feedback", "党员", "/feedback 建议支部活动提前一周发通知，方便大家安排时间。"),
    ("feedback", "书记", "/feedback_answer 1 好的，以后支部活动至少提前一周通知。"),
    ("feedback", "预备党员", "/feedback 匿名 希望组织生活会上大家更坦诚地开展批评和自我批评。"),
    ("feedback", "预备党员", "/open"),
    ("bad", "党员", "/invite 赵强"),
    ("bad", "党员", "/hlep"),
    ("bad", "党员", "今天几点开会？"),
    ("bad", "书记", "/invite 赵强 明天"),
    ("bad", "陌生人", "/start ABCDEFGH"),
    ("bad", "党员", "／ｍｅ"),
]


async def _seed(services: Services, personas: list[Persona]) -> None:
    now = datetime.now(UTC)
    ttl = timedelta(days=services.settings.invite_ttl_days)
    async with services.sessions.begin() as session:
        branch = await add_branch(session, services.box, BRANCH, now, college="化学化工学院")
        for p in personas:
            new = NewMember(name=p.name, role=p.role, stage=p.stage, remote_until=p.remote_until)
            member = await add_member(session, services.box, branch, new, now, via="demo")
            p.code = await issue_invite(session, services.box, member, now, ttl)
        name, raw = starter_bank()
        await import_bank(session, services.box, name, raw, now)
        for path in sorted(MATERIALS.glob("*.md")):
            doc = read_document(path.name, path.read_bytes())
            new_material = NewMaterial(doc.title, doc.body)
            await add_material(
                session, services.box, new_material, branch_id=None, actor_id=None, now=now
            )


async def quiz_answer(services: Services, right: bool) -> str:
    """What a member would type to answer the open quiz question, rightly or not."""
    async with services.readers() as session:
        round_ = await session.scalar(
            select(Quiz).where(Quiz.finished_at.is_(None)).order_by(Quiz.id.desc()).limit(1)
        )
        if round_ is None:
            return "?"
        qid = round_.question_ids[round_.position]
        question = (await quizzes.questions(session, [qid]))[qid]
    answer = question.answer
    if question.kind == QuestionKind.JUDGE:
        return answer if right else ("错" if answer == "对" else "对")
    if question.kind == QuestionKind.BLANK:
        return "；".join(alts[0] for alts in blanks(answer)) if right else "不知道"
    if right:
        return answer
    return next(c for c in LETTERS[: len(question.options)] if c not in answer)


class Transcript:
    """Plays the script through the console adapter, one chat per speaker; messages queued
    for others (notices) are delivered by the real outbox sender to their console chats."""

    def __init__(
        self, services: Services, personas: list[Persona], outbox: Path, mail: ConsoleTransport
    ) -> None:
        self.services = services
        self.codes = {p.name: p.code for p in personas}
        self.chats: dict[str, ConsoleChat] = {}
        self.outbox = outbox
        self.mail = mail

    def _chat(self, label: str) -> ConsoleChat:
        if label not in self.chats:
            account = f"demo-{len(self.chats) + 1}"
            self.chats[label] = ConsoleChat(self.services, account, self.outbox)
            self.mail.open(label, self.chats[label])
        return self.chats[label]

    async def _delivered(self) -> None:
        """Wait until the sender has delivered what the last line queued."""
        for _ in range(500):
            async with self.services.readers() as session:
                if not await outbox.unsent(session, [CONSOLE]):
                    return
            await asyncio.sleep(0.01)

    async def _fill(self, text: str) -> str:
        zone = self.services.settings.zone
        soon = (datetime.now(zone) + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
        today = datetime.now(zone).date()
        text = text.replace("{soon}", soon).replace("{month}", today.strftime("%Y-%m"))
        text = re.sub(
            r"\{days:(-?\d+)\}",
            lambda m: (today + timedelta(days=int(m.group(1)))).isoformat(),
            text,
        )
        if text in ("{answer}", "{wrong}"):
            return await quiz_answer(self.services, right=text == "{answer}")
        return re.sub(r"\{code:(\w+)\}", lambda m: self.codes.get(m.group(1), "?"), text)

    async def play(self) -> None:
        render = self.services.renderer.render
        section = None
        for part, label, text in SCRIPT:
            if part != section:
                section = part
                click.secho("\n" + render(Msg(f"demo.{part}")), bold=True)
            line = await self._fill(text)
            click.secho(f"{label} ▶ {line}", fg="cyan")
            chat = self._chat(label)
            for answer in await chat.send(line):
                click.echo("  ◀ " + answer.replace("\n", "\n    "))
            self._learn_codes(chat.last)
            await self._delivered()

    def _learn_codes(self, replies: list[Reply]) -> None:
        """Pick up the codes the bot hands out (invites, check-in), in any language."""
        for reply in replies:
            if reply.text is not None and reply.text.key == "invite.created":
                params = reply.text.params
                self.codes[str(params["name"])] = str(params["code"])
            if reply.text is not None and reply.text.key == "checkin.code":
                self.codes["checkin"] = str(reply.text.params["code"])


def demo_settings(folder: Path) -> Settings:
    database = folder / "demo.sqlite3"
    for stale in folder.glob("demo.sqlite3*"):
        stale.unlink()
    return load_settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        secret_key=SecretBox.generate_key(),
        quiz_size=3,  # a short quiz keeps the transcript readable
    )


async def run_demo(folder: Path, interactive: bool) -> None:
    settings = demo_settings(folder)
    services = build_services(settings)
    try:
        await schema.upgrade(services.engine, services.box)
        personas = _personas(datetime.now(settings.zone).date())
        await _seed(services, personas)
        click.secho(services.renderer.render(Msg("cli.demo_title", branch=BRANCH)), bold=True)
        mail = ConsoleTransport()
        sender = start_sender(services, {CONSOLE: mail}, DEMO_LIMITS)
        try:
            transcript = Transcript(services, personas, folder / "console", mail)
            await transcript.play()
            await _verify(services, folder)
            if interactive:
                click.secho(services.renderer.render(Msg("cli.demo_console")), bold=True)
                await interact(transcript.chats["书记"], "书记 ▶ ")
        finally:
            await sender.stop()
    finally:
        await services.close()


async def _verify(services: Services, folder: Path) -> None:
    async with services.readers() as session:
        result = await chain.verify(session, services.box)
    verdict = (
        Msg("cli.verify_ok", count=result.checked)
        if result.ok
        else Msg(
            "cli.verify_bad",
            id=result.bad_id,
            count=result.checked,
            reason=Msg(f"cli.verify_{result.reason}"),
        )
    )
    render = services.renderer.render
    click.echo("\n" + render(verdict))
    click.echo(render(Msg("cli.demo_done", path=folder / "demo.sqlite3")))


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
