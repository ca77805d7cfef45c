"""jieba's dictionary in a compact trie (marisa-trie), mapped from a cache file: 3 MB that
processes share, instead of 62 MB of Python strings in each.

jieba keeps its prefix dictionary as a dict of every word and every prefix of one (500,000
strings); its Tokenizer reads it only through `in`, `[]`, `.get` and writes it through
`[] =` (add_word), with the sum of the frequencies in `total`. `CompactFreq` answers those
from a marisa trie of the same keys and an array of their frequencies, with the words
added at run time (the Party terms, a bank's tags) in a small dict over it, so a Tokenizer
given it cuts text exactly as one with jieba's own dict (tests/study/test_dictionary.py,
which names what changed should jieba's release do).

The trie and the frequencies are built from jieba's dict.txt once and kept in the system's
temporary folder (where jieba keeps its own cache), named by the dictionary file they come
from; a process maps them (mmap), so several service processes share the pages.
"""

import hashlib
import logging
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import marisa_trie

if TYPE_CHECKING:
    import jieba

log = logging.getLogger(__name__)
FORMAT = 1  # bump when the cache files' layout changes
_TOTAL_BYTES = 8  # the frequencies file starts with jieba's total, then one uint32 a key


class CompactFreq:
    """What jieba's Tokenizer.FREQ is asked, answered from the trie (see the module's text)."""

    __slots__ = ("added", "freqs", "trie")

    def __init__(self, trie: marisa_trie.Trie, freqs: memoryview) -> None:
        self.trie = trie
        self.freqs = freqs  # by the trie's key id
        self.added: dict[str, int] = {}

    def __contains__(self, word: object) -> bool:
        return word in self.added or word in self.trie

    def __getitem__(self, word: str) -> int:
        found = self.added.get(word)
        return found if found is not None else int(self.freqs[self.trie[word]])

    def get(self, word: str, default: int | None = None) -> int | None:
        found = self.added.get(word)
        if found is not None:
            return found
        key = self.trie.get(word)
        return default if key is None else int(self.freqs[key])

    def __setitem__(self, word: str, freq: int) -> None:
        self.added[word] = freq


def compact_tokenizer() -> "jieba.Tokenizer":
    """A jieba Tokenizer on jieba's own dictionary, held in the compact trie."""
    import jieba  # the caller (handlers/study/text.py) imports jieba only when first needed

    tok = jieba.Tokenizer()
    source = Path(tok.dictionary or Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME))
    trie, freqs, total = _mapped(source)
    tok.FREQ = CompactFreq(trie, freqs)
    tok.total = total
    tok.initialized = True  # what initialize() would set after loading its own dict
    return tok


def _mapped(source: Path) -> tuple[marisa_trie.Trie, memoryview, int]:
    """The trie, the frequencies and the total for `source`, built into the cache first if
    they are not there yet (or kept in this process alone if the cache cannot be written)."""
    trie_file, freq_file = _cache_files(source)
    if not (trie_file.exists() and freq_file.exists()):
        built = _build(source)
        try:
            _save(built, trie_file, freq_file)
        except OSError as err:
            log.warning("jieba's compact dictionary kept in memory, not cached: %s", err)
            return built
    trie = marisa_trie.Trie()
    trie.mmap(str(trie_file))
    with freq_file.open("rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    total = int.from_bytes(mapped[:_TOTAL_BYTES], "little")
    return trie, memoryview(mapped)[_TOTAL_BYTES:].cast("I"), total


def _cache_files(source: Path) -> tuple[Path, Path]:
    stat = source.stat()
    mark = f"{FORMAT}:{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    name = "branchbot-jieba-" + hashlib.sha256(mark.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir())
    return folder / f"{name}.trie", folder / f"{name}.freq"


def _entries(source: Path) -> Iterator[tuple[str, int]]:
    """(word, frequency) for each line of a jieba dictionary ("word freq [tag]")."""
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            word, freq = line.strip().split(" ")[:2]
            yield word, int(freq)


def _keys(source: Path) -> Iterator[str]:
    """Every word and every prefix of one (repeats are fine: the trie keeps one of each)."""
    for word, _ in _entries(source):
        for end in range(1, len(word) + 1):
            yield word[:end]


def _build(source: Path) -> tuple[marisa_trie.Trie, memoryview, int]:
    """The trie, the frequencies and the total, streamed from the dictionary, so the 500,000
    keys never stand in Python at once."""
    trie = marisa_trie.Trie(_keys(source))
    freqs = memoryview(bytearray(4 * len(trie))).cast("I")
    total = 0
    for word, freq in _entries(source):
        freqs[trie[word]] = freq  # a word listed twice keeps its last line, as jieba does
        total += freq  # and counts each line, as jieba's total does
    return trie, freqs, total


def _save(
    built: tuple[marisa_trie.Trie, memoryview, int], trie_file: Path, freq_file: Path
) -> None:
    """Each file through a temporary one renamed into place, so a process starting meanwhile
    never maps half a file."""
    trie, freqs, total = built
    partial = freq_file.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(total.to_bytes(_TOTAL_BYTES, "little") + freqs.tobytes())
    partial.replace(freq_file)
    partial = trie_file.with_suffix(f".{os.getpid()}.part")
    trie.save(str(partial))
    partial.replace(trie_file)
