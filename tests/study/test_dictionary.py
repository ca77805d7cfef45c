"""jieba's dictionary in the compact trie cuts exactly as jieba's own dict does.

handlers/study/dictionary.py relies on how jieba 0.42's Tokenizer uses its FREQ (`in`, `[]`,
`.get`, `[] =`), `total` and `initialized`: should a jieba release change that, these tests
say so (pyproject.toml holds jieba below 0.43)."""

import tempfile
from importlib.resources import files
from pathlib import Path

import jieba
import pytest

from handlers.study.dictionary import CompactFreq, compact_tokenizer
from handlers.study.text import party_terms

DEMO = files("bot.cli") / "demo_materials"


def _corpus() -> str:
    texts = [p.read_text(encoding="utf-8") for p in DEMO.iterdir() if p.name.endswith(".md")]
    assert texts
    return "\n".join(texts)


@pytest.fixture(scope="module")
def pair() -> tuple[jieba.Tokenizer, jieba.Tokenizer]:
    """jieba's own tokenizer and the compact one, each with the Party terms added alike."""
    plain, compact = jieba.Tokenizer(), compact_tokenizer()
    plain.initialize()
    assert isinstance(compact.FREQ, CompactFreq)
    for tok in (plain, compact):
        for word in party_terms():
            tok.add_word(word, freq=2000)
            if tok.lcut(word, HMM=False) != [word]:
                tok.suggest_freq(word, tune=True)
    return plain, compact


def test_it_cuts_as_jiebas_own_dictionary(pair: tuple[jieba.Tokenizer, ...]) -> None:
    plain, compact = pair
    text = _corpus()
    assert compact.total == plain.total
    assert compact.lcut(text) == plain.lcut(text)
    assert compact.lcut(text, HMM=False) == plain.lcut(text, HMM=False)
    assert list(compact.cut_for_search(text)) == list(plain.cut_for_search(text))
    assert compact.lcut(text, cut_all=True) == plain.lcut(text, cut_all=True)


def test_it_answers_what_the_tokenizer_asks(pair: tuple[jieba.Tokenizer, ...]) -> None:
    plain, compact = pair
    for word in ("中国共产党", "中国共", "三会一课", "组织生活会", "不在词典里的词", "的"):
        assert (word in compact.FREQ) == (word in plain.FREQ), word
        assert compact.FREQ.get(word) == plain.FREQ.get(word), word
        assert compact.FREQ.get(word, -1) == plain.FREQ.get(word, -1), word
    with pytest.raises(KeyError):
        compact.FREQ["不在词典里的词"]
    assert compact.suggest_freq("党建带团建", tune=False) == plain.suggest_freq(
        "党建带团建", tune=False
    )


def test_the_cache_is_built_once_and_mapped_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first = compact_tokenizer()
    cached = sorted(p.suffix for p in tmp_path.iterdir())
    assert cached == [".freq", ".trie"]
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = compact_tokenizer()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps
    assert again.lcut("支部党员大会") == first.lcut("支部党员大会")


def test_an_unwritable_cache_keeps_the_dictionary_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    tok = compact_tokenizer()
    assert tok.lcut("三会一课", HMM=False) == jieba.Tokenizer().lcut("三会一课", HMM=False)
