"""Whether an answer is right, for each kind of question, in the notation the bank uses.

The notation is the same in the database, the import files and the export: choice answers
are letters ("B", "ACD"), true/false is 对 or 错, and a fill-in-the-blank answer lists per
blank its accepted alternatives: "中央委员会|党中央委员会", blanks separated by "；".
"""

import re
import unicodedata

from handlers.study.text import normalize, stop_words, words
from storage.enums import QuestionKind

LETTERS = "ABCDEF"
BLANK = "____"
TRUE, FALSE = "对", "错"
_TRUE_WORDS = frozenset({"对", "正确", "是", "√", "✓", "✔", "t", "true", "y", "yes"})
_FALSE_WORDS = frozenset({"错", "错误", "不对", "否", "×", "✗", "✘", "x", "f", "false", "n", "no"})
_BLANK_SEPARATORS = re.compile(r"[；;]")
_ALTERNATIVE_SEPARATORS = re.compile(r"[|｜]")


def letters(text: str, option_count: int) -> str | None:
    """Option letters typed in any form ("b", "A、C", "a c"), sorted; None if not letters
    of this question's options."""
    folded = unicodedata.normalize("NFKC", text).upper()
    picked = [c for c in folded if unicodedata.category(c)[0] not in "PZ"]
    valid = LETTERS[:option_count]
    if not picked or any(c not in valid for c in picked):
        return None
    return "".join(sorted(set(picked)))


def judgement(text: str) -> str | None:
    """对 or 错 from the ways people write it (√, ×, 正确, 错误, T, F); None otherwise."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold().rstrip("。.!！")
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


def blank_is_right(stem: str, answer: str, given: str) -> bool:
    """A fill-in-the-blank answer, forgiving about form and strict about the key terms.

    Full-width characters, case, spaces and punctuation do not matter, and any listed
    alternative counts. Each blank's key term must appear whole, in order (中央委员 is not
    中央委员会). What else the member wrote must only repeat the question's own words or be
    filler (的, 是): "党的中央委员会" passes, "不是民主集中制" or "中央委员会和国务院" do not.
    """
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
    allowed = set(words(stem.replace(BLANK, " "))) | stop_words()
    leftovers = (piece for piece in rest.split("\0") if piece)
    return all(word in allowed for piece in leftovers for word in words(piece))


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
