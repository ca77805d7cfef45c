"""Properties of answer reading: the notation's forms, fill-in-the-blank matching and the
bank file parser, over generated input (hypothesis)."""

import contextlib
import json
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.common.tables import RowsInvalid
from handlers.core.messages import UserError
from handlers.study.answers import blank_is_right, judgement, letters
from handlers.study.bank import parse_bank

STEM = "党的最高领导机关，是党的全国代表大会和它所产生的____。"
TERMS = ["中央委员会", "民主集中制", "入党积极分子", "三会一课", "预备党员"]
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
NOISE = st.sampled_from([" ", "，", "。", "！", "　", "、", "\u200b"])


@given(st.sets(st.sampled_from("ABCD"), min_size=1), st.lists(NOISE, max_size=3), st.booleans())
def test_letters_in_any_form(picked: set[str], noise: list[str], lower: bool) -> None:
    typed = "".join(c.lower() if lower else c for c in sorted(picked))
    typed = "".join(noise) + "、".join(typed) + "".join(noise)
    assert letters(typed, 4) == "".join(sorted(picked))


@given(st.text(alphabet="EFGHXYZ甲乙丙", min_size=1, max_size=4))
def test_letters_outside_the_options_are_not_answers(typed: str) -> None:
    assert letters(typed, 4) is None


@given(st.sampled_from(["对", "正确", "√", "T", "true", "对的"]), st.lists(NOISE, max_size=2))
def test_judgement_true_forms(word: str, noise: list[str]) -> None:
    assert judgement(word + "".join(n for n in noise if n in "。！")) == "对"


@settings(deadline=None)  # the first example loads jieba
@given(st.sampled_from(TERMS), st.lists(NOISE, max_size=4), st.booleans())
def test_a_term_survives_spacing_punctuation_and_width(
    term: str, noise: list[str], wide: bool
) -> None:
    typed = "".join(noise[:2]) + term + "".join(noise[2:])
    if wide:
        typed = typed.translate(str.maketrans(FULL_WIDTH))
    assert blank_is_right(STEM.replace("中央委员会", term), term, typed)


@settings(deadline=None)  # the first example loads jieba
@given(st.sampled_from(TERMS), st.sampled_from(["不", "不是", "非", "没有", "并非"]))
def test_a_negated_term_is_wrong(term: str, negation: str) -> None:
    assert not blank_is_right(STEM, term, negation + term)


@settings(deadline=None)  # the first example loads jieba
@given(st.sampled_from(TERMS), st.integers(min_value=1, max_value=len("中央委员会") - 1))
def test_a_cut_term_is_wrong(term: str, cut: int) -> None:
    assert not blank_is_right(STEM, term, term[: min(cut, len(term) - 1)])


@settings(deadline=None)  # the first example loads jieba
@given(st.sampled_from(TERMS), st.sampled_from(TERMS), st.sampled_from(["或", "和", "或者", "、"]))
def test_two_answers_offered_are_wrong(term: str, other: str, joiner: str) -> None:
    if unicodedata.normalize("NFKC", other) in term:
        return
    assert not blank_is_right(STEM, term, term + joiner + other)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), max_size=15), max_size=8))
def test_any_table_is_parsed_or_refused_with_reasons(rows: list[list[str]]) -> None:
    text = "\n".join(",".join(f'"{c.replace(chr(34), "")}"' for c in row) for row in rows)
    try:
        parse_bank("any.csv", ("编号,题型,题干,答案\n" + text).encode())
    except RowsInvalid as err:
        assert err.errors and all(e.line >= 1 for e in err.errors)
    except UserError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["code", "kind", "stem", "answer", "options", "tags"]),
                        inner, max_size=6), max_leaves=20))  # fmt: skip
def test_any_json_is_parsed_or_refused_with_reasons(data: object) -> None:
    with contextlib.suppress(RowsInvalid, UserError):  # anything else fails the test
        specs = parse_bank("any.json", json.dumps({"questions": data}).encode())
        assert specs and all(spec.code for spec in specs)
