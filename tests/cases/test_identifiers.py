import re

from hypothesis import given
from hypothesis import strategies as st

from cases.identifiers import (
    CASE_NUMBER_ALPHABET,
    format_case_number,
    generate_case_number,
    generate_pin,
    normalise_case_number,
    normalise_pin,
)


def test_case_numbers_avoid_characters_people_confuse():
    assert not set("0O1IL") & set(CASE_NUMBER_ALPHABET)
    numbers = {generate_case_number() for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(re.fullmatch(f"[{CASE_NUMBER_ALPHABET}]{{12}}", n) for n in numbers)


def test_case_numbers_use_the_whole_alphabet_at_random():
    seen = "".join(generate_case_number() for _ in range(500))
    assert set(seen) == set(CASE_NUMBER_ALPHABET)


def test_a_case_number_is_shown_in_groups_of_four():
    assert format_case_number("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


@given(st.sampled_from(["", " ", "-", " - "]), st.booleans())
def test_a_case_number_typed_with_spaces_dashes_or_lower_case_is_understood(separator, lower):
    number = generate_case_number()
    typed = separator.join(number[i : i + 4] for i in range(0, 12, 4))
    assert normalise_case_number(typed.lower() if lower else typed) == number


def test_what_cannot_be_a_case_number_is_refused():
    for typed in ["", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JK0O", "ABCD-EFGH-JK1L", None, 12]:
        assert normalise_case_number(typed) is None


def test_pins_are_eight_digits_and_typed_with_spaces_are_understood():
    pin = generate_pin()
    assert re.fullmatch(r"\d{8}", pin)
    assert normalise_pin(f"{pin[:4]} {pin[4:]}") == pin
    assert normalise_pin("1234567") is None
    assert normalise_pin("١٢٣٤٥٦٧٨") is None  # digits of another script are not what was issued
