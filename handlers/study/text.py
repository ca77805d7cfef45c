"""Chinese text as words: jieba with the Party-term dictionary, loaded once per process.

Every feature that reads Chinese (search, keywords, recommendation, fill-in-the-blank
answers) goes through here, so they all cut text the same way. jieba's dictionary is held in
a compact trie shared between processes (handlers/study/dictionary.py). It loads on first
use, never twice, in a worker thread where the caller can wait for it (`loaded`), so a
process never asked to cut Chinese does not carry jieba at all (docs/performance.md). The
terms a branch's own bank and materials bring (tags, quoted names) are added as they come
(`learn`), or once it loads (`learn_later`).
"""

import asyncio
import gc
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from handlers.core.collector import collector_paused
from handlers.study.dictionary import compact_tokenizer

if TYPE_CHECKING:
    import jieba

_DATA = files("handlers.study") / "data"
_lock = threading.Lock()
_tokenizer: "jieba.Tokenizer | None" = None
_pending: set[str] = set()  # terms to learn once the dictionary loads


async def loaded() -> None:
    """Load the dictionary in a worker thread if it is not yet: the event loop (every other
    chat's updates) does not wait for it (a second the first time on a machine, while the
    trie is built and cached; a tenth of one after)."""
    if _tokenizer is None:
        await asyncio.to_thread(tokenizer)


def tokenizer() -> "jieba.Tokenizer":
    """The process's jieba tokenizer with the Party terms added (三会一课 stays one word)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                # Importing jieba (and pkg_resources, which scans every installed package)
                # makes many long-lived objects: the cyclic garbage collector would walk
                # them while they are made and afterwards at every full collection.
                with collector_paused():
                    tok = _build()
                gc.freeze()
                _tokenizer = tok
    return _tokenizer


def _build() -> "jieba.Tokenizer":
    # Imported here: jieba (with pkg_resources, which it imports) is 10 MB of a process's
    # memory, for nothing in one that never cuts Chinese.
    import jieba

    jieba.setLogLevel(40)  # no "Building prefix dict" chatter in the service log
    tok = compact_tokenizer()
    for word in party_terms():
        _add(tok, word)
    for word in _pending:
        _learn_one(tok, word)
    _pending.clear()
    return tok


def _add(tok: "jieba.Tokenizer", word: str) -> None:
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
    with _lock:
        return sum(_learn_one(tok, candidate) for candidate in candidates)


def learn_later(candidates: Iterable[str]) -> None:
    """`learn`, but without loading the dictionary: the terms wait for it if it is not
    loaded yet (the search index, built at start-up, must not load it)."""
    with _lock:
        if _tokenizer is None:
            _pending.update(candidates)
            return
    learn(candidates)


def _learn_one(tok: "jieba.Tokenizer", candidate: str) -> bool:
    """Add one term (call it holding the lock); True if it was not cut whole before."""
    word = normalize(candidate)
    if word in _learned or not _TERM.fullmatch(word):
        return False
    _learned.add(word)
    if tok.lcut(word, HMM=False) == [word]:
        return False
    _add(tok, word)
    return True


# “两个确立”, 「三会一课」: the short names a Party text marks as terms itself. A quoted
# phrase with a particle in it is a quotation, not a name.
_QUOTED = re.compile(r"[“「‘]([\u3400-\u4dbf\u4e00-\u9fff]{2,8})[”」’]")
_PARTICLES = frozenset("的了和与及或着过吗呢吧")


def quoted_terms(text: str) -> list[str]:
    """The names `text` puts in quotes, each once, in order."""
    found = (m.group(1) for m in _QUOTED.finditer(text))
    return list(dict.fromkeys(t for t in found if not _PARTICLES.intersection(t)))


def warm() -> None:
    """Load the dictionary now (bench/study.py, before it times anything)."""
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
    # model (most of a second and about 100 MB), which only adding a material and a
    # survey's results need, not start-up nor a search.
    from jieba import analyse

    # The package's own instance: a TFIDF of our own would load the IDF table again (38 MB).
    extractor = analyse.default_tfidf
    extractor.tokenizer = tokenizer()
    extractor.stop_words = set(extractor.stop_words) | stop_words()
    return extractor


def keywords(text: str, limit: int = 8) -> list[str]:
    """The text's key words by TF-IDF; Party terms count as single words."""
    found: list[Any] = _extractor().extract_tags(text, topK=limit * 2)
    picked = [w for w in found if not any(c.isdigit() for c in w)]  # no "0.5%" or "2024"
    return picked[:limit]
