"""Study set-up: a small question bank with its right and wrong answers, the newest quiz
round, and the demo materials corpus."""

import json
from pathlib import Path

from sqlalchemy import select

from handlers.study.bank import import_bank
from handlers.study.documents import read_document
from handlers.study.materials import NewMaterial, add_material
from storage import quizzes
from storage.models import Quiz
from tests.support.chat import Chat

BANK = [
    {"code": "T-1", "kind": "single", "stem": "党的根本组织原则是（ ）。",
     "options": ["民主集中制", "集体领导", "个人分工负责", "少数服从多数"], "answer": "A",
     "tags": ["民主集中制"], "explanation": "党章规定。", "source": "《中国共产党章程》第二章"},
    {"code": "T-2", "kind": "multi", "stem": "三会一课中的“三会”包括（ ）。",
     "options": ["支部党员大会", "支部委员会会议", "党小组会", "民主生活会"], "answer": "ABC",
     "tags": ["三会一课"], "explanation": "三会是支部党员大会、支委会、党小组会。",
     "source": "《中国共产党支部工作条例（试行）》"},
    {"code": "T-3", "kind": "judge", "stem": "预备党员的预备期为两年。", "answer": "错",
     "tags": ["发展党员"], "explanation": "预备期为一年。", "source": "《中国共产党章程》第一章"},
    {"code": "T-4", "kind": "blank",
     "stem": "党的最高领导机关，是党的全国代表大会和它所产生的____。",
     "answer": "中央委员会|党中央委员会", "tags": ["组织制度"], "explanation": "党章第十条。",
     "source": "《中国共产党章程》第二章第十条"},
    {"code": "T-5", "kind": "blank",
     "stem": "党员如果没有正当理由，连续____个月不交纳党费，就被认为是自行脱党。",
     "answer": "六|6", "tags": ["党费"], "explanation": "党章第九条。",
     "source": "《中国共产党章程》第一章第九条"},
]  # fmt: skip


async def load_bank(chat: Chat, bank: list[dict[str, object]] = BANK) -> None:
    raw = json.dumps({"version": 1, "questions": bank}, ensure_ascii=False).encode()
    async with chat.services.sessions.begin() as session:
        await import_bank(session, chat.services.box, "bank.json", raw, chat.clock())


async def current_round(chat: Chat) -> Quiz:
    async with chat.services.sessions() as session:
        found = await session.scalar(select(Quiz).order_by(Quiz.id.desc()).limit(1))
    assert found is not None
    return found


async def codes_of(chat: Chat, round_: Quiz) -> list[str]:
    async with chat.services.sessions() as session:
        found = await quizzes.questions(session, round_.question_ids)
    return [found[q].code for q in round_.question_ids]


RIGHT_BY_BUTTON = {"T-1": ["A"], "T-2": ["+A", "+B", "+C", "ok"], "T-3": ["错"]}


RIGHT_BY_TEXT = {"T-1": "a", "T-2": "A、C，B", "T-3": "×", "T-4": "党的 中央委员会。", "T-5": "６"}


WRONG_BY_TEXT = {"T-1": "B", "T-2": "B", "T-3": "对", "T-4": "全国代表大会", "T-5": "五"}


DEMO = Path(__file__).parents[2] / "bot" / "cli" / "demo_materials"


async def add_demo_corpus(chat: Chat, branch_id: int | None = None) -> dict[str, int]:
    """The twelve demo materials; returns their ids by file name."""
    ids = {}
    async with chat.services.sessions.begin() as session:
        for path in sorted(DEMO.glob("*.md")):
            doc = read_document(path.name, path.read_bytes())
            material, _ = await add_material(
                session,
                chat.services.box,
                NewMaterial(doc.title, doc.body),
                branch_id=branch_id,
                actor_id=None,
                now=chat.clock(),
            )
            ids[path.stem] = material.id
    return ids
