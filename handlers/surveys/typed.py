"""Reading an answer typed instead of pressed: option letters or numbers ("B", "1 3", "选AC"),
an option's own words, or a score ("4", "4分")."""

import re
import unicodedata

from handlers.core.parsing import clean
from handlers.surveys.spec import LETTERS, SCALE

# "选B", "答案是AC", "我选 1 3": the marks after a few words of preamble.
_PREAMBLE = re.compile(r"^(?:我?选择?|选项|答案是?|是)")
_SCORE = re.compile(r"([1-5])\s*分?")


def choices(text: str, options: tuple[str, ...]) -> list[int] | None:
    """The options picked, as sorted 0-based indexes; None if the text is not a pick."""
    folded = clean(text)
    for i, option in enumerate(options):
        if folded.casefold() == clean(option).casefold():
            return [i]
    marks = [
        c
        for c in _PREAMBLE.sub("", folded).upper()
        if unicodedata.category(c)[0] not in "PZC"  # punctuation, spaces, controls
    ]
    if not marks:
        return None
    picked: set[int] = set()
    for mark in marks:
        if mark in LETTERS[: len(options)]:
            picked.add(LETTERS.index(mark))
        elif mark.isdigit() and 1 <= int(mark) <= len(options):
            picked.add(int(mark) - 1)
        else:
            return None
    return sorted(picked)


def score(text: str) -> int | None:
    """A score of 1 to 5, as 4 or 4分; None otherwise."""
    match = _SCORE.fullmatch(clean(text))
    value = int(match.group(1)) if match else None
    return value if value in SCALE else None
