"""The one check every stored text passes: NUL and lone surrogates refused, naming the field."""

import pytest

from states.errors import InvalidData
from states.text import check_storable, first_unstorable


@pytest.mark.parametrize(
    "value, field",
    [
        ({"title": "a\x00b"}, "title"),
        ({"customer": {"id": "\x00"}}, "customer.id"),
        ({"data": {"a": [1, {"b": "x\x00"}]}}, "data.a[1].b"),
        ({"data": {"key\x00": "v"}}, "data"),
        ({"note": "\udc80"}, "note"),
    ],
)
def test_text_a_store_cannot_hold_is_refused_naming_its_field(value, field):
    with pytest.raises(InvalidData) as refused:
        check_storable(value)
    assert refused.value.field == field


def test_every_other_character_is_stored():
    text = "".join(chr(code) for code in range(1, 0x20)) + "\x7f\ufffe\uffff\U0010ffff\u202e\u200f😀客诉"
    assert first_unstorable({"title": text, "data": {text: [text, 1, None, True]}}, "") is None


def test_the_refusal_says_what_and_where_but_not_the_text():
    with pytest.raises(InvalidData) as refused:
        check_storable("secret\x00", "title")
    assert "U+0000" in str(refused.value) and "position 6" in str(refused.value) and "secret" not in str(refused.value)
