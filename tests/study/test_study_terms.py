"""Reading Party texts as whole terms: the dictionary holds every tag of the bank and the
common terms of current documents, the recommendation matches weak tags whole and by how
often they were missed, and a blank answered with no words is asked again."""

import json
from importlib.resources import files

from sqlalchemy import select

from handlers.study.index import MaterialIndex
from handlers.study.recommend import FRESH_COUNT, Recommender
from handlers.study.text import keywords, learn, party_terms, terms, words
from handlers.surveys.analysis import hot_words
from storage.enums import Role
from storage.models import Member, Mistake, Question, QuizAnswer
from tests.support.chat import Chat
from tests.support.study import BANK, add_demo_corpus, load_bank


def starter_tags() -> set[str]:
    raw = (files("handlers.study") / "data" / "starter_questions.json").read_text("utf-8")
    return {tag for q in json.loads(raw)["questions"] for tag in q.get("tags", ())}


def test_every_tag_of_the_starter_bank_is_one_word() -> None:
    tags = starter_tags()
    assert tags and tags <= set(party_terms())
    assert {tag: words(tag) for tag in tags} == {tag: [tag] for tag in tags}


def test_every_dictionary_term_stays_whole() -> None:
    split = {t: words(t) for t in party_terms() if words(t) != [t]}
    assert split == {}


def test_a_term_inside_a_longer_word_is_a_search_term() -> None:
    """jieba's search mode gives the 2- and 3-character words inside 纪律处分条例, not
    纪律处分: a text on the 条例 must be found by the tag 纪律处分 too."""
    assert {"纪律处分", "纪律处分条例", "纪律"} <= set(terms("中国共产党纪律处分条例"))


def test_current_terms_are_hot_words_whole() -> None:
    answers = [
        "希望多学习科技自立自强的内容",
        "想了解科技自立自强和新质生产力",
        "科技自立自强怎么落实到科研工作",
    ]
    found = [h.word for h in hot_words(answers, 5, set())]
    assert "科技自立自强" in found and "科技" not in found and "自立自强" not in found
    assert "新质生产力" in keywords("发展新质生产力，推进中国式现代化。")


def test_a_learned_tag_is_cut_whole_from_then_on() -> None:
    assert words("党建带团建工作") != ["党建带团建", "工作"]
    assert learn(["党建带团建", "党费", "AB", "的", "第3条"]) == 1  # new Han terms only
    assert words("党建带团建工作") == ["党建带团建", "工作"]
    assert learn(["党建带团建"]) == 0


def _index(docs: dict[int, dict[str, int]]) -> MaterialIndex:
    index = MaterialIndex()
    for material_id, counts in docs.items():
        index.add(material_id, None, counts)
    return index


def test_a_tag_matches_whole_not_by_its_generic_parts() -> None:
    """组织原则 must not find a text that only says 组织 and 原则 somewhere."""
    index = _index(
        {
            1: {"组织原则": 1, "组织": 2, "原则": 1, "民主集中制": 3},
            2: {"主题党日": 5, "组织": 4, "原则": 2},
            3: {"组织": 3, "原则": 3, "党费": 2},
        }
    )
    pick = Recommender(index).best(None, [], {"组织原则": 1}, set())
    assert pick is not None and pick.material_id == 1
    # No text names the tag whole, and its parts are in every text: nothing fits.
    pick = Recommender(index).best(None, [], {"组织生活原则": 1}, set())
    assert pick is not None and pick.why.key == "study.why_new"


def test_the_most_missed_tag_drives_the_choice() -> None:
    index = _index({1: {"纪律处分": 2, "组织": 1}, 2: {"组织原则": 2, "组织": 1}})
    for weak in ({"纪律处分": 3, "组织原则": 1}, {"组织原则": 1, "纪律处分": 3}):
        pick = Recommender(index).best(None, [], weak, set())
        assert pick is not None and pick.material_id == 1
        assert pick.why.params["tag"] == "纪律处分"


def test_equal_scores_go_to_the_more_relevant_not_the_newer() -> None:
    """Each text is the best for one of two equally missed tags: the one matching its tag
    more strongly wins, however new the other."""
    filler = {f"词{i}": 1 for i in range(30)}
    docs = {1: {"纪律处分": 9, **filler}, 2: {"组织原则": 1, **filler}}
    docs.update({i: {"其他": 1} for i in range(3, 3 + FRESH_COUNT)})  # 1 and 2 are not new
    pick = Recommender(_index(docs)).best(None, [], {"组织原则": 2, "纪律处分": 2}, set())
    assert pick is not None and pick.material_id == 1


async def test_study_picks_by_the_most_missed_tag_and_names_it(chat: Chat) -> None:
    """Three misses on 纪律处分 and one on 组织原则: a text on discipline, not the newest
    text that says 组织, with 纪律处分 named on one line."""
    await add_demo_corpus(chat)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await secretary.say(
        "/material_add 本月主题党日活动安排 | 支部组织党员开展主题党日，组织学习，"
        "按照组织安排和工作原则，由组织委员组织签到，坚持原则、服从组织。"
    )
    member = await chat.bound("党员甲")
    bank = [{**BANK[0], "code": f"J-{i}", "tags": ["纪律处分"]} for i in range(3)]
    await load_bank(chat, [*bank, {**BANK[0], "code": "Y-1", "tags": ["组织原则"]}])
    async with chat.services.sessions.begin() as session:
        row = await session.scalar(select(Member).where(Member.name == "党员甲"))
        assert row is not None
        for question in await session.scalars(select(Question)):
            session.add(Mistake(member_id=row.id, question_id=question.id, missed_at=chat.clock()))
    reply = await member.say("/study")
    assert "纪律" in reply.splitlines()[0], reply
    assert "您在“纪律处分”方面的题目有错题" in reply, reply


TWO_BLANKS = {
    "code": "T-6", "kind": "blank", "stem": "党的组织原则是____，党的领导原则是____。",
    "answer": "民主集中制；集体领导", "tags": ["民主集中制"],
}  # fmt: skip


async def test_a_blank_answered_with_no_words_is_asked_again(chat: Chat) -> None:
    """Only marks, spaces or emoji: the question is asked again with the form it wants, and
    neither counted nor put in the 错题本."""
    await load_bank(chat, BANK[3:4])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    for typed in ("！！！", "。。", "？", "……", "👍", "🙏🙏", "× ×", "～", "“”"):
        again = await member.say(typed)
        assert "没有读到" in again and "回答错误" not in again, (typed, again)
        assert "1 个空" in again, again
    assert "回答错误" not in await member.say("　")  # the router's "send text" answer
    assert "回答正确" in await member.say("中央委员会")
    async with chat.services.sessions() as session:
        given = (await session.scalars(select(QuizAnswer.given))).all()
        mistakes = (await session.scalars(select(Mistake))).all()
    assert given == ["中央委员会"] and not mistakes


async def test_the_form_asked_again_counts_the_blanks(chat: Chat) -> None:
    await load_bank(chat, [TWO_BLANKS])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    again = await member.say("；")
    assert "2 个空" in again and "“；”" in again, again
    assert "回答正确" in await member.say("民主集中制；集体领导")
