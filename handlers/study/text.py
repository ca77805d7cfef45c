"""Chinese text as words: jieba with the Party-term dictionary, loaded once per process.

Every feature that reads Chinese (search, keywords, recommendation, fill-in-the-blank
answers) goes through here, so they all cut text the same way. The dictionary loads on first
use, or in the background at start-up (`warm`), never twice: jieba keeps a prefix-dictionary
cache on disk, so a warm start takes a fraction of a second. The terms a branch's own bank
and materials bring (tags, quoted names) are added as they come (`learn`).
"""

import gc
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.resources import files
from typing import Any

import jieba

from handlers.core.collector import collector_paused

_DATA = files("handlers.study") / "data"
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    """The process's jieba tokenizer with the Party terms added (三会一课 stays one word)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(40)  # no "Building prefix dict" chatter in the service log
                # The dictionary is 350,000 small objects: without this the cyclic garbage
                # collector walks them again and again while they are built (half the time),
                # and afterwards at every full collection.
                with collector_paused():
                    tok = _build()
                gc.freeze()
                _tokenizer = tok
    return _tokenizer


def _build() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.initialize()
    for word in party_terms():
        _add(tok, word)
    return tok


def _add(tok: jieba.Tokenizer, word: str) -> None:
    tok.add_word(word, freq=2000)
    if tok.lcut(word, HMM=False) != [word]:
        tok.suggest_freq(word, tune=True)  # raise it until it stays whole


_TERM = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,12}")  # Han characters only
_learned: set[str] = set()


def learn(candidates: Iterable[str]) -> int:
    """Add the terms a branch's own bank and materials use (the bank's tags, the names a
    text puts in quotes) to this process's dictionary, so they are cut whole from now on.

    Only Han terms of 2 to 12 characters are taken (not "AI" or "第3条"). Returns how many
    were not cut whole before."""
    tok = tokenizer()
    added = 0
    with _lock:
        for candidate in candidates:
            word = normalize(candidate)
            if word in _learned or not _TERM.fullmatch(word):
                continue
            _learned.add(word)
            if tok.lcut(word, HMM=False) != [word]:
                _add(tok, word)
                added += 1
    return added


# “两个确立”, 「三会一课」: the short names a Party text marks as terms itself. A quoted
# phrase with a particle in it is a quotation, not a name.
_QUOTED = re.compile(r"[“「‘]([\u3400-\u4dbf\u4e00-\u9fff]{2,8})[”」’]")
_PARTICLES = frozenset("的了和与及或着过吗呢吧")


def quoted_terms(text: str) -> list[str]:
    """The names `text` puts in quotes, each once, in order."""
    found = (m.group(1) for m in _QUOTED.finditer(text))
    return list(dict.fromkeys(t for t in found if not _PARTICLES.intersection(t)))


def warm() -> None:
    """Load the dictionary now (the service calls this in a thread at start-up)."""
    tokenizer()


@cache
def party_terms() -> tuple[str, ...]:
    lines = (_DATA / "party_terms.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line.split()[0] for line in lines if line.strip() and not line.startswith("#"))


@cache
def stop_words() -> frozenset[str]:
    lines = (_DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if (w := line.strip()))


_KEPT_MARKS = re.compile(r"(?<=\d)[./](?=\d)|(?<=\d)%")  # 2/3, 0.5, 5%: part of a number


def _is_mark(char: str) -> bool:
    """Punctuation, spaces, control characters and symbols: never part of a word."""
    return unicodedata.category(char)[0] in "PZCS"


def normalize(text: str) -> str:
    """Full-width to half-width, one case, no spaces or punctuation (but the marks inside a
    number, as in 2/3, 0.5 or 5%): what words are made of."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = {m.start() for m in _KEPT_MARKS.finditer(folded)}
    return "".join(c for i, c in enumerate(folded) if i in kept or not _is_mark(c))


def words(text: str) -> list[str]:
    """The words of `text` in order (precise mode), normalized, marks dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for raw in tokenizer().cut(folded) if (w := normalize(raw))]


def terms(text: str) -> list[str]:
    """Search terms: words in search mode (long words and their parts), minus stop words.

    Search mode indexes 中央委员会 also as 中央 and 委员会, so either finds it; and a known
    term inside a longer word counts too (纪律处分 in 纪律处分条例)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stops = stop_words()
    return [w for raw in _search_words(folded) if (w := normalize(raw)) and w not in stops]


def _search_words(text: str) -> Iterator[str]:
    """jieba's search mode, which gives the known words of 2 and 3 characters inside a long
    word, with those of 4 characters or more as well."""
    tok = tokenizer()
    for word in tok.cut_for_search(text):
        size = len(word)
        if size > 4:
            for n in range(4, size):
                yield from (
                    part for i in range(size - n + 1) if tok.FREQ.get(part := word[i : i + n])
                )
        yield word


@cache
def _extractor() -> Any:
    # Imported here: importing jieba.analyse loads its IDF table and the part-of-speech
    # model (most of a second), which only adding a material needs, not start-up.
    from jieba.analyse.tfidf import TFIDF

    extractor = TFIDF()
    extractor.tokenizer = tokenizer()
    extractor.stop_words = set(extractor.stop_words) | stop_words()
    return extractor


def keywords(text: str, limit: int = 8) -> list[str]:
    """The text's key words by TF-IDF; Party terms count as single words."""
    found: list[Any] = _extractor().extract_tags(text, topK=limit * 2)
    picked = [w for w in found if not any(c.isdigit() for c in w)]  # no "0.5%" or "2024"
    return picked[:limit]
