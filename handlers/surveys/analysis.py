"""Reading open answers: hot words, key phrases, topic groups and study suggestions.

Pure functions over texts and materials, no database, so each can be checked on a handful
of hand-written answers. Words come from handlers/study/text.py (jieba with the Party-term
dictionary and the stop words), as everywhere else: TF-IDF picks the candidate words, and
they are ranked by how many answers mention them, the measure a secretary can check.
"""

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from handlers.study.text import keywords, normalize, stop_words, words

HOT_WORDS = 10
CANDIDATES = 3  # TF-IDF candidates looked at per hot word wanted
PHRASE_WORDS = (2, 3)
MIN_TOPIC = 2  # answers a word needs to be a topic (a group, a suggestion) of its own
SUGGESTIONS = 3
KEYWORD_MATCH = 1.0  # a hot word among a material's keywords or in its title
TEXT_MATCH = 0.5  # a hot word only somewhere in its text
COVERED = 0.5  # a word an earlier suggestion already answers counts half (variety)
MIN_FIT = 2.0  # below this a material matches too weakly to suggest
# Words people frame an opinion with, not what it is about; a branch's surveys are all
# about 学习 and 活动, so these say nothing either.
_FILLER_WORDS = """
希望 建议 觉得 认为 感觉 可以 能够 应该 需要 想要 参加 参与 开展 组织 举办 活动
学习 支部 多多 一些 更多 方面 方式 比较 非常 特别 没有 没法 期间 问题 讲讲 有点
"""
FILLER = frozenset(_FILLER_WORDS.split())
_CLAUSES = re.compile(r"[^\w]+")  # punctuation and spaces end a phrase


@dataclass(frozen=True)
class HotWord:
    """A word (or phrase) and which answers mention it, by their index. An answer mentions
    a word when it contains it, whatever the case, width, spaces and punctuation."""

    word: str
    answers: frozenset[int]

    @property
    def count(self) -> int:
        return len(self.answers)


@dataclass(frozen=True)
class Group:
    """Answers (indexes, in order) whose main topic is `word`; None: 其他, the rest."""

    word: str | None
    answers: tuple[int, ...]


@dataclass(frozen=True)
class MaterialWords:
    """What a suggestion needs of a study material."""

    id: int
    title: str
    keywords: Sequence[str] = ()
    terms: Collection[str] = ()  # its search terms (storage: Material.terms)


@dataclass(frozen=True)
class Suggestion:
    """A material to study (or, with no material_id, a hot topic to build a meeting on),
    the hot words it answers and how many answers mention any of them."""

    words: tuple[str, ...]
    answers: int
    material_id: int | None = None
    title: str = ""


def hot_words(
    texts: Sequence[str], top: int = HOT_WORDS, ignore: Collection[str] = ()
) -> list[HotWord]:
    """The words the answers are about, the most mentioned first (ties in TF-IDF order).

    `ignore`: words not to count, typically the question's own (its answers repeat them)."""
    folded = [normalize(t) for t in texts]
    skip = FILLER | {normalize(w) for w in ignore}
    found: list[HotWord] = []
    for raw in keywords("\n".join(texts), limit=top * CANDIDATES):
        word = normalize(raw)
        if len(word) < 2 or word in skip or any(h.word == word for h in found):
            continue
        answers = frozenset(i for i, text in enumerate(folded) if word in text)
        if answers:
            found.append(HotWord(word, answers))
    found = [h for h in found if not _repeats_longer(h, found)]
    found.sort(key=lambda h: -h.count)  # stable: TF-IDF order among equals
    return found[:top]


def recurring(hot: Sequence[HotWord]) -> list[HotWord]:
    """The words more than one answer mentions; all of them when none is (a small survey)."""
    return [h for h in hot if h.count >= MIN_TOPIC] or list(hot)


def _repeats_longer(hot: HotWord, others: Sequence[HotWord]) -> bool:
    """党史 mentioned exactly where 党史学习教育 is adds nothing: keep the longer word."""
    return any(
        hot.word in o.word and hot.word != o.word and hot.answers == o.answers for o in others
    )


def question_words(question: str) -> set[str]:
    """The question's own words, which its answers echo (for `ignore`)."""
    return {w for w in words(question) if len(w) >= 2}


def key_phrases(texts: Sequence[str], top: int = 5, ignore: Collection[str] = ()) -> list[HotWord]:
    """Runs of two or three words that recur in at least MIN_TOPIC answers (老 + 党员),
    not starting or ending with a stop word, the most mentioned first; a phrase inside a
    longer one found in the same answers is left out."""
    skip = FILLER | stop_words() | {normalize(w) for w in ignore}
    seen: dict[str, set[int]] = {}
    for index, text in enumerate(texts):
        for clause in _CLAUSES.split(text):
            cut = words(clause)
            for size in PHRASE_WORDS:
                for start in range(len(cut) - size + 1):
                    run = cut[start : start + size]
                    if _phrase(run, skip):
                        seen.setdefault("".join(run), set()).add(index)
    found = [HotWord(p, frozenset(a)) for p, a in seen.items() if len(a) >= MIN_TOPIC]
    found = [h for h in found if not _repeats_longer(h, found)]
    found.sort(key=lambda h: (-h.count, -len(h.word)))
    return found[:top]


def _phrase(run: Sequence[str], skip: Collection[str]) -> bool:
    ends_ok = run[0] not in skip and run[-1] not in skip
    has_word = any(len(w) >= 2 and w not in skip for w in run)
    return (
        ends_ok
        and has_word
        and sum(map(len, run)) >= 3
        and not any(c.isdigit() for w in run for c in w)
    )


def group_by_topic(
    texts: Sequence[str], topics: Sequence[str], min_size: int = MIN_TOPIC
) -> list[Group]:
    """Each answer under the first of `topics` (the hottest first) it mentions; a topic
    left with fewer than `min_size` answers gives them up to the next topic they mention.
    Largest groups first, then 其他 (word None) for answers under no topic."""
    folded = [normalize(t) for t in texts]
    alive = [normalize(t) for t in topics]
    while True:
        members: dict[str, list[int]] = {t: [] for t in alive}
        rest: list[int] = []
        for index, text in enumerate(folded):
            topic = next((t for t in alive if t in text), None)
            (members[topic] if topic is not None else rest).append(index)
        small = [t for t in alive if len(members[t]) < min_size]
        if not small:
            break
        alive = [t for t in alive if t not in small]
    order = {t: i for i, t in enumerate(alive)}
    groups = sorted(members.items(), key=lambda item: (-len(item[1]), order[item[0]]))
    found = [Group(word, tuple(indexes)) for word, indexes in groups]
    return found + ([Group(None, tuple(rest))] if rest else [])


def suggest(
    hot: Sequence[HotWord], materials: Sequence[MaterialWords], limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The materials that best answer the hot words, each with the words it matches; when
    fewer than `limit` match well enough, the hot topics no suggestion covers yet."""
    picked: list[Suggestion] = []
    covered: set[str] = set()
    left = list(materials)
    while len(picked) < limit and left:
        scored = [(_fit(m, hot, covered), m) for m in left]
        (score, matched), best = max(scored, key=lambda item: (item[0][0], -item[1].id))
        if score < MIN_FIT:
            break
        left.remove(best)
        covered.update(h.word for h in matched)
        picked.append(Suggestion(_words(matched), _union(matched), best.id, best.title))
    for topic in hot:
        if len(picked) >= limit:
            break
        if topic.word not in covered and topic.count >= MIN_TOPIC:
            covered.add(topic.word)
            picked.append(Suggestion((topic.word,), topic.count))
    return picked


def _fit(
    material: MaterialWords, hot: Sequence[HotWord], covered: Collection[str]
) -> tuple[float, list[HotWord]]:
    """How well the material answers the hot words (mentions weighted by how strongly it
    is about each word), and the words it matches, hottest first."""
    strong = {normalize(k) for k in material.keywords}
    title = normalize(material.title)
    score, matched = 0.0, []
    for h in hot:
        if h.word in strong or h.word in title:
            strength = KEYWORD_MATCH
        elif h.word in material.terms:
            strength = TEXT_MATCH
        else:
            continue
        matched.append(h)
        score += strength * h.count * (COVERED if h.word in covered else 1.0)
    return score, matched


def _words(matched: Sequence[HotWord]) -> tuple[str, ...]:
    return tuple(h.word for h in matched)


def _union(matched: Sequence[HotWord]) -> int:
    return len(frozenset().union(*(h.answers for h in matched)))
