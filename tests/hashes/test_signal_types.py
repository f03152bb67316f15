import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from hashes.signal_types import normalise_hash

HEX = "0123456789abcdef"


@given(st.text(alphabet=HEX + HEX.upper(), min_size=64, max_size=64), st.integers(0, 100))
def test_any_pdq_spelling_is_stored_as_lowercase_hex(value, quality):
    result = normalise_hash(signal_type="PDQ", value=f"  {value}\n", quality=quality)
    assert (result.signal_type, result.value, result.quality) == ("pdq", value.lower(), quality)


@given(st.text(alphabet=HEX + HEX.upper(), min_size=32, max_size=32))
def test_any_md5_spelling_is_stored_as_lowercase_hex_without_quality(value):
    result = normalise_hash(signal_type="md5", value=value, quality=77)
    assert (result.signal_type, result.value, result.quality) == ("md5", value.lower(), None)


@given(st.text(max_size=80).filter(lambda s: not (len(s.strip()) == 64 and all(c in HEX for c in s.strip().lower()))))
def test_anything_but_64_hex_digits_is_refused_as_pdq(value):
    with pytest.raises(ValidationError) as exc:
        normalise_hash(signal_type="pdq", value=value, quality=50)
    assert exc.value.code == "invalid_hash"
    assert "64 hexadecimal characters" in exc.value.messages[0]


@pytest.mark.parametrize(
    "value",
    ["f" * 63, "f" * 65, "g" * 64, "0x" + "f" * 62, "f" * 32 + " " + "f" * 31, "ｆ" * 64, "٠" * 64],
)
def test_near_misses_are_refused(value):
    with pytest.raises(ValidationError):
        normalise_hash(signal_type="pdq", value=value, quality=50)


@pytest.mark.parametrize("value", [None, 123, ["f" * 64], {"v": 1}])
def test_non_text_values_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        normalise_hash(signal_type="pdq", value=value, quality=50)
    assert exc.value.code == "invalid_hash"


@pytest.mark.parametrize("quality", [None, -1, 101, 50.0, "50", True])
def test_pdq_needs_a_whole_quality_from_0_to_100(quality):
    with pytest.raises(ValidationError) as exc:
        normalise_hash(signal_type="pdq", value="a" * 64, quality=quality)
    assert exc.value.code == "invalid_quality"


@pytest.mark.parametrize("signal_type", ["sha256", "", None, "tmk", 3])
def test_unknown_types_are_refused_with_the_accepted_list(signal_type):
    with pytest.raises(ValidationError) as exc:
        normalise_hash(signal_type=signal_type, value="a" * 64, quality=50)
    assert exc.value.code == "unknown_signal_type"
    assert "pdq" in exc.value.messages[0] and "md5" in exc.value.messages[0]


def test_errors_are_translated():
    from django.utils import translation

    with translation.override("zh-hant"):
        with pytest.raises(ValidationError) as exc:
            normalise_hash(signal_type="pdq", value="xyz", quality=50)
        message = exc.value.messages[0]
    assert message == "PDQ 雜湊值由 64 個十六進位字元（0-9、a-f）組成。"
