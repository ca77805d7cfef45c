"""What a sender types, property-based: a receipt code read back in any case and with or
without dashes, anything else read as no code; and an item beginning with 匿名 is anonymous
whatever follows (taken for named, it would give its sender away)."""

from hypothesis import given
from hypothesis import strategies as st

from handlers.feedback.receipt import LENGTH, as_receipt, new_receipt, shown
from handlers.feedback.send import split_mode
from storage.invites import ALPHABET

codes = st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH)


@given(codes)
def test_a_code_reads_back_however_it_is_typed(code: str) -> None:
    for typed in (code, shown(code), shown(code).lower(), f" {shown(code)} ", code.lower()):
        assert as_receipt(typed) == code


@given(st.text(max_size=40))
def test_anything_else_is_no_code(text: str) -> None:
    code = as_receipt(text)
    assert code is None or (len(code) == LENGTH and set(code) <= set(ALPHABET))


def test_new_codes_are_codes_and_differ() -> None:
    made = {new_receipt() for _ in range(200)}
    assert len(made) == 200 and all(as_receipt(c) == c for c in made)


@given(st.text(max_size=60))
def test_what_begins_with_anonymous_is_anonymous(rest: str) -> None:
    anonymous, text = split_mode(f"匿名{rest}")
    assert anonymous is True and rest.endswith(text)
    named, same = split_mode(f"意见：{rest}")
    assert named is None and same == f"意见：{rest}"
