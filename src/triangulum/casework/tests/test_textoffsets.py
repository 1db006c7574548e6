"""Offsets between the browser (UTF-16), Taguette (UTF-8 bytes), vendors' texts and ours."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triangulum.casework.textoffsets import (
    OffsetError,
    canonicalise,
    codepoint_to_utf8,
    codepoint_to_utf16,
    is_canonical,
    utf8_to_codepoint,
    utf16_to_codepoint,
)

# Texts mixing what breaks naive offset code: emoji and other astral-plane characters
# (two UTF-16 units, four UTF-8 bytes), combining marks, precomposed letters, Hangul
# jamo, and every kind of line ending.
_pieces = st.sampled_from(
    [
        "a", "Z", " ", "é", "e\u0301", "\u0301", "\u0323\u0302", "ñ", "n\u0303",
        "😀", "👩\u200d⚕️", "𝄞", "\U00020000", "\r\n", "\r", "\n", "\u1100\u1161\u11a8",
        "\uac00", "\u0b47\u0b3e", "\u212b", "x\u0f74\u0f73", "ﬁ",
    ]
)  # fmt: skip
texts = st.lists(st.one_of(_pieces, st.text(max_size=3)), max_size=30).map("".join)


def boundaries_utf16(text: str) -> list[int]:
    """Every UTF-16 offset that falls between two code points, counted independently."""
    offsets, position = [0], 0
    for char in text:
        position += 2 if ord(char) > 0xFFFF else 1
        offsets.append(position)
    return offsets


@given(texts)
@settings(deadline=None)  # the first call builds a table of all code points
def test_utf16_offsets_convert_to_code_points_and_back_exactly(text):
    expected = boundaries_utf16(text)
    for codepoint, utf16 in enumerate(expected):
        assert codepoint_to_utf16(text, codepoint) == utf16
        assert utf16_to_codepoint(text, utf16) == codepoint


@given(texts)
@settings(deadline=None)  # the first call builds a table of all code points
def test_an_offset_inside_a_surrogate_pair_is_refused(text):
    inside = set(range(boundaries_utf16(text)[-1] + 1)) - set(boundaries_utf16(text))
    for offset in inside:
        with pytest.raises(OffsetError, match="surrogate pair"):
            utf16_to_codepoint(text, offset)


def test_browser_selection_after_an_emoji():
    text = "I felt 😀 then\r\nlow"
    # The browser's Selection reports 10 for the position after "😀 " (the emoji is two units).
    assert utf16_to_codepoint(text, 10) == 9
    assert text[utf16_to_codepoint(text, 10) :].startswith("then")
    with pytest.raises(OffsetError):
        utf16_to_codepoint(text, 8)
    with pytest.raises(OffsetError, match="outside the text"):
        codepoint_to_utf16(text, len(text) + 1)


@given(texts)
@settings(deadline=None)  # the first call builds a table of all code points
def test_utf8_byte_offsets_convert_to_code_points_and_back_exactly(text):
    for codepoint in range(len(text) + 1):
        byte_offset = codepoint_to_utf8(text, codepoint)
        assert byte_offset == len(text[:codepoint].encode("utf-8"))
        assert utf8_to_codepoint(text, byte_offset) == codepoint


def test_utf8_offset_inside_a_character_is_refused():
    text = "né😀"
    assert utf8_to_codepoint(text, 3) == 2
    for inside in (2, 4, 5, 6):
        with pytest.raises(OffsetError, match="multi-byte"):
            utf8_to_codepoint(text, inside)


@given(texts)
@settings(deadline=None)  # the first call builds a table of all code points
def test_canonical_form_is_nfc_with_newlines(text):
    canonical, _ = canonicalise(text)
    expected = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    assert canonical == expected
    assert is_canonical(canonical)


@given(texts, texts, texts)
@settings(max_examples=300, deadline=None)
def test_a_segment_maps_onto_the_same_words_in_the_canonical_text(before, segment, after):
    # A vendor's selection of ``segment`` inside ``before + segment + after``, counted in
    # code points of the text as stored (CRLF as two, decomposed accents as two).
    original = before + segment + after
    canonical, mapping = canonicalise(original)
    start = mapping.to_canonical(len(before), side="start")
    end = mapping.to_canonical(len(before) + len(segment), side="end")
    assert 0 <= start <= end <= len(canonical)
    parts = [canonicalise(part)[0] for part in (before, segment, after)]
    if "".join(parts) == canonical:
        # The selection's edges fall between characters: it maps exactly.
        assert canonical[start:end] == parts[1]
    # Where an edge cuts a character (CR|LF, letter|accent) the segment grows outwards to
    # keep it whole; it never shrinks.
    assert start <= len(canonicalise(before)[0])
    assert end >= len(canonicalise(before + segment)[0])
    assert mapping.to_canonical(0) == 0
    assert mapping.to_canonical(len(original)) == len(canonical)


@given(texts)
@settings(deadline=None)  # the first call builds a table of all code points
def test_canonical_offsets_map_back_to_the_original_on_piece_boundaries(text):
    canonical, mapping = canonicalise(text)
    for offset in mapping.canonical_starts:
        original = mapping.to_original(offset)
        assert mapping.to_canonical(original) == offset


def test_crlf_counted_as_two_maps_to_one_newline():
    original = "one\r\ntwo\r\nthree"
    canonical, mapping = canonicalise(original)
    assert canonical == "one\ntwo\nthree"
    start, end = original.index("two"), original.index("two") + 3
    assert canonical[mapping.to_canonical(start) : mapping.to_canonical(end, side="end")] == "two"
    assert mapping.to_canonical(original.index("three")) == canonical.index("three")
    # Between CR and LF there is no canonical position: a start moves back, an end forward.
    assert mapping.to_canonical(4, side="start") == 3
    assert mapping.to_canonical(4, side="end") == 4


def test_decomposed_accents_collapse_and_offsets_follow():
    original = "Cafe\u0301 au lait"
    canonical, mapping = canonicalise(original)
    assert canonical == "Café au lait"
    assert canonical[mapping.to_canonical(0) : mapping.to_canonical(5)] == "Café"
    assert mapping.to_canonical(original.index("au")) == canonical.index("au")
    with pytest.raises(OffsetError, match="normalised"):
        # Inside a piece that changed there is no way back; at its edges there is.
        canonicalise("e\u0301\u0323")[1].to_original(1)


def test_text_already_canonical_maps_to_itself():
    text = "Already fine 😀\nline two"
    canonical, mapping = canonicalise(text)
    assert canonical == text
    assert mapping.is_identity
    assert [mapping.to_canonical(i) for i in range(len(text) + 1)] == list(range(len(text) + 1))
