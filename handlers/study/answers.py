"""Whether an answer is right, for each kind of question, in the notation the bank uses.

The notation is the same in the database, the import files and the export: choice answers
are letters ("B", "ACD"), true/false is 对 or 错, and a fill-in-the-blank answer lists per
blank its accepted alternatives: "中央委员会|党中央委员会", blanks separated by "；".
"""

import re
import unicodedata

from handlers.study.text import normalize, words
from storage.enums import QuestionKind

LETTERS = "ABCDEF"
BLANK = "____"
TRUE, FALSE = "对", "错"
_TRUE_WORDS = frozenset(
    {"对", "对的", "正确", "正确的", "是", "是的", "√", "✓", "✔", "t", "true", "y", "yes"}
)
_FALSE_WORDS = frozenset(
    {
        "错",
        "错的",
        "错误",
        "错误的",
        "不对",
        "不正确",
        "否",
        "×",
        "✗",
        "✘",
        "x",
        "f",
        "false",
        "n",
        "no",
    }
)
# "选B", "答案是AC": the letters after a few words of preamble.
_CHOICE_PREAMBLE = re.compile(r"^(?:我?选项|答案是|答案|我?选择?|是)")
_BLANK_SEPARATORS = re.compile(r"[；;]")
# What may surround a blank's term without changing the answer.
FILLER = frozenset(
    {"的", "是", "为", "了", "即", "就是", "应是", "应该", "应该是", "答案", "答案是", "答"}
)
_NEGATIONS = frozenset("不非没未无否别莫勿")
_NUMERALS = frozenset("〇零一二两三四五六七八九十百千万半几")
_CONNECTIVES = frozenset(
    {"或", "或者", "和", "与", "及", "以及", "且", "并且", "还是", "是否", "或是"}
)
_CROSS = re.compile("[×✗✘✕❌]")
_ALTERNATIVE_SEPARATORS = re.compile(r"[|｜]")


def letters(text: str, option_count: int) -> str | None:
    """Option letters typed in any form ("b", "A、C", "a c"), sorted; None if not letters
    of this question's options."""
    folded = _CHOICE_PREAMBLE.sub("", unicodedata.normalize("NFKC", text).strip()).upper()
    picked = [c for c in folded if unicodedata.category(c)[0] not in "PZC"]
    valid = LETTERS[:option_count]
    if not picked or any(c not in valid for c in picked):
        return None
    return "".join(sorted(set(picked)))


def judgement(text: str) -> str | None:
    """对 or 错 from the ways people write it (√, ×, 正确, 错误, T, F); None otherwise."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold().rstrip("。.!！~")
    folded = folded.removeprefix("答案是").removeprefix("答案").strip()
    if folded in _TRUE_WORDS:
        return TRUE
    if folded in _FALSE_WORDS:
        return FALSE
    return None


def blanks(answer: str) -> list[list[str]]:
    """Per blank, its accepted alternatives, as written in the bank."""
    return [
        [alt.strip() for alt in _ALTERNATIVE_SEPARATORS.split(part) if alt.strip()]
        for part in _BLANK_SEPARATORS.split(answer)
    ]


def has_words(given: str) -> bool:
    """Whether an answer to a blank has anything to mark: only punctuation, spaces, symbols
    or emoji (！！！, ……, 👍) is no answer, and the question is asked again."""
    return bool(normalize(given))


def blank_is_right(stem: str, answer: str, given: str) -> bool:
    """A fill-in-the-blank answer, forgiving about form and strict about the key terms.

    Full-width characters, case, spaces and punctuation do not matter, and any listed
    alternative counts. Each blank's term must appear whole, in order (中央委员 is not
    中央委员会). What else the member wrote may only repeat the question's own wording or be
    filler (的, 是, 答案是), and never carry meaning of its own: a negation (不, 非, 没有), a
    number, or 或/和 offering a second answer. So 党的中央委员会 and 5年内 pass, and
    不是中央委员会, 中央委员会或全国代表大会, 35 or 中央委员会 × do not.
    """
    if _CROSS.search(given):
        return False
    rest = normalize(given)
    if not rest:
        return False
    start = 0
    for alternatives in blanks(answer):
        found = _find_term(rest, alternatives, start)
        if found is None:
            return False
        at, length = found
        rest = rest[:at] + "\0" + rest[at + length :]  # a cut: leftovers never join up
        start = at + 1
    segments = [normalize(part) for part in stem.split(BLANK)]
    pieces = rest.split("\0")
    return len(pieces) == len(segments) and all(
        not piece or _harmless(piece, i, segments) for i, piece in enumerate(pieces)
    )


def _harmless(piece: str, i: int, segments: list[str]) -> bool:
    """Text around the key terms that adds nothing: the question's own wording right where
    it stands (不超过 before 5个 in "不超过____个"), or filler and words of the question that
    carry no meaning of their own."""
    if i == 0 and segments[0].endswith(piece):
        return True
    if i == len(segments) - 1 and piece in segments[i][: len(piece) + 2]:
        return True  # +2: the term may have taken the unit, as 5年 from "____年内"
    if 0 < i < len(segments) - 1 and piece in segments[i]:
        return True
    context = "".join(segments)
    return all(not _means_something(w) and (w in FILLER or w in context) for w in words(piece))


def _means_something(word: str) -> bool:
    return (
        word in _CONNECTIVES
        or word[0] in _NEGATIONS
        or any(c.isdigit() or c in _NUMERALS for c in word)
    )


def _find_term(text: str, alternatives: list[str], start: int) -> tuple[int, int] | None:
    """Where the longest matching alternative first appears at or after `start`."""
    for alternative in sorted(alternatives, key=len, reverse=True):
        term = normalize(alternative)
        at = text.find(term, start) if term else -1
        if at >= 0:
            return at, len(term)
    return None


def canonical(kind: str, given: str, option_count: int) -> str | None:
    """A choice or true/false answer in the bank's notation; None if it is not one."""
    if kind == QuestionKind.JUDGE:
        return judgement(given)
    return letters(given, option_count)


def is_right(kind: str, stem: str, answer: str, given: str) -> bool:
    """`given` is already canonical for choice and true/false questions."""
    if kind == QuestionKind.BLANK:
        return blank_is_right(stem, answer, given)
    return given == answer


def shown_answer(kind: str, answer: str, options: list[str]) -> str:
    """The right answer as a member should read it: "B. 民主集中制", or the first alternative
    of each blank."""
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
        return "；".join(f"{c}. {options[LETTERS.index(c)]}" for c in answer)
    if kind == QuestionKind.BLANK:
        return "；".join(alts[0] for alts in blanks(answer))
    return answer
