"""Offsets into source texts, converted at the edges to Triangulum's canonical form.

Triangulum stores every source text once: NFC, ``\\n`` line endings, and a segment is
``[start, end)`` counted in Unicode code points of that text. Other parties count
differently: the browser in UTF-16 code units, Taguette in UTF-8 bytes, REFI-QDA
vendors in code points of a text that may still carry ``\\r\\n`` (counted as two) or
decomposed (NFD) accents. This module converts between them and nothing else: no
Django, no I/O.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


class OffsetError(ValueError):
    """An offset that does not fall on a character boundary of the text, or out of range."""


def _check_range(offset: int, length: int, unit: str) -> None:
    if not 0 <= offset <= length:
        raise OffsetError(f"offset {offset} is outside the text (0–{length} {unit})")


# --- UTF-16 (the browser) ---------------------------------------------------------------


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_to_codepoint(text: str, offset: int) -> int:
    """The code-point offset of a UTF-16 code-unit offset into ``text``.

    Raises OffsetError for an offset that splits a surrogate pair (an astral-plane
    character such as an emoji), because no code-point offset corresponds to it.
    """
    encoded = text.encode("utf-16-le")
    _check_range(offset, len(encoded) // 2, "UTF-16 code units")
    head = encoded[: 2 * offset]
    if head and 0xD800 <= int.from_bytes(head[-2:], "little") <= 0xDBFF:
        raise OffsetError(
            f"UTF-16 offset {offset} falls inside a surrogate pair "
            f"(between the two halves of character {len(head.decode('utf-16-le', 'replace')) - 1})"
        )
    return len(head.decode("utf-16-le"))


def codepoint_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 code-unit offset of a code-point offset into ``text``."""
    _check_range(offset, len(text), "code points")
    return utf16_length(text[:offset])


# --- UTF-8 bytes (Taguette) -------------------------------------------------------------


def utf8_to_codepoint(text: str, byte_offset: int) -> int:
    """The code-point offset of a UTF-8 byte offset; OffsetError inside a multi-byte character."""
    encoded = text.encode("utf-8")
    _check_range(byte_offset, len(encoded), "UTF-8 bytes")
    if byte_offset < len(encoded) and (encoded[byte_offset] & 0xC0) == 0x80:
        raise OffsetError(f"UTF-8 byte offset {byte_offset} falls inside a multi-byte character")
    return len(encoded[:byte_offset].decode("utf-8"))


def codepoint_to_utf8(text: str, offset: int) -> int:
    """The UTF-8 byte offset of a code-point offset into ``text``."""
    _check_range(offset, len(text), "code points")
    return len(text[:offset].encode("utf-8"))


# --- Canonical form ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _composes_with_previous() -> frozenset[str]:
    """Characters with combining class 0 that NFC may still merge into the character before.

    These are the second halves of canonical two-character decompositions (for example
    U+0B3E ORIYA VOWEL SIGN AA), plus the Hangul medial vowels and final consonants.
    A text may only be cut for normalisation before a character that is neither a
    combining mark nor one of these.
    """
    found = set()
    for code in range(0x110000):
        decomposition = unicodedata.decomposition(chr(code))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = decomposition.split()
        if len(parts) == 2:
            second = chr(int(parts[1], 16))
            if unicodedata.combining(second) == 0:
                found.add(second)
    found.update(chr(c) for c in range(0x1161, 0x1176))
    found.update(chr(c) for c in range(0x11A8, 0x11C3))
    return frozenset(found)


@lru_cache(maxsize=4096)
def _starts_cluster(char: str) -> bool:
    # Judge by the first character of the decomposition: U+0F73, for one, has class 0
    # but decomposes into marks that canonical ordering may move.
    first = unicodedata.normalize("NFD", char)[0]
    merges = _composes_with_previous()
    return unicodedata.combining(first) == 0 and char not in merges and first not in merges


@dataclass(frozen=True)
class OffsetMap:
    """Maps offsets in an original text to offsets in its canonical form.

    The text is cut into pieces that canonicalise independently (a line ending, or a
    character with the marks that follow it). ``original_starts[i]`` and
    ``canonical_starts[i]`` are where piece ``i`` begins in each text; ``unchanged[i]``
    says whether canonicalising left that piece as it was.
    """

    original_starts: tuple[int, ...]
    canonical_starts: tuple[int, ...]
    unchanged: tuple[bool, ...]
    original_length: int
    canonical_length: int
    original: str = ""

    def to_canonical(self, offset: int, *, side: str = "start") -> int:
        """The canonical offset of ``offset`` (code points of the original text).

        An offset inside a piece that canonicalisation changed (between ``\\r`` and
        ``\\n``, or between a letter and its decomposed accent) has no exact image: it is
        moved outwards, to the piece's start for ``side="start"`` and to its end for
        ``side="end"``, so that a segment never cuts a character in two.
        """
        if side not in {"start", "end"}:
            raise ValueError("side must be 'start' or 'end'")
        _check_range(offset, self.original_length, "code points")
        if offset == self.original_length:
            return self.canonical_length
        index = bisect.bisect_right(self.original_starts, offset) - 1
        inside = offset - self.original_starts[index]
        if inside == 0 or self.unchanged[index]:
            return self.canonical_starts[index] + inside
        piece = self.original[offset - inside : self._piece_end(index, canonical=False)]
        head, tail = _canonical_text(piece[:inside]), _canonical_text(piece[inside:])
        if head + tail == _canonical_text(piece):
            # The cut falls between characters even though the piece changed ("e\u0301|\u0301").
            return self.canonical_starts[index] + len(head)
        if side == "start":
            return self.canonical_starts[index]
        return self._piece_end(index, canonical=True)

    def to_original(self, offset: int) -> int:
        """The original offset of a canonical offset (exact on piece boundaries)."""
        _check_range(offset, self.canonical_length, "code points")
        if offset == self.canonical_length:
            return self.original_length
        index = bisect.bisect_right(self.canonical_starts, offset) - 1
        inside = offset - self.canonical_starts[index]
        if inside == 0 or self.unchanged[index]:
            return self.original_starts[index] + inside
        raise OffsetError(
            f"canonical offset {offset} falls inside a character that was normalised "
            "and has no position in the original text"
        )

    def _piece_end(self, index: int, *, canonical: bool) -> int:
        starts = self.canonical_starts if canonical else self.original_starts
        if index + 1 < len(starts):
            return starts[index + 1]
        return self.canonical_length if canonical else self.original_length

    @property
    def is_identity(self) -> bool:
        return all(self.unchanged)


def _pieces(text: str):
    """Yield the pieces of ``text`` that canonicalise independently."""
    start = 0
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\r":
            if start < i:
                yield text[start:i]
            end = i + 2 if i + 1 < length and text[i + 1] == "\n" else i + 1
            yield text[i:end]
            start = i = end
            continue
        if i > start and _starts_cluster(char):
            yield text[start:i]
            start = i
        i += 1
    if start < length:
        yield text[start:]


def _canonical_text(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _canonical_piece(piece: str) -> str:
    if piece.startswith("\r"):
        return "\n"
    return unicodedata.normalize("NFC", piece)


def canonicalise(text: str) -> tuple[str, OffsetMap]:
    """Triangulum's canonical form of ``text`` (NFC, ``\\n`` line endings) and its offset map.

    A leading byte-order mark is not removed here: deciding whether it is part of the
    text is the reader's business.
    """
    if "\r" not in text and unicodedata.is_normalized("NFC", text):
        starts = (0,) if text else ()
        return text, OffsetMap(starts, starts, (True,) * len(starts), len(text), len(text))
    original_starts: list[int] = []
    canonical_starts: list[int] = []
    unchanged: list[bool] = []
    parts: list[str] = []
    original_at = canonical_at = 0
    for piece in _pieces(text):
        canonical = _canonical_piece(piece)
        original_starts.append(original_at)
        canonical_starts.append(canonical_at)
        unchanged.append(canonical == piece)
        parts.append(canonical)
        original_at += len(piece)
        canonical_at += len(canonical)
    result = "".join(parts)
    return result, OffsetMap(
        tuple(original_starts),
        tuple(canonical_starts),
        tuple(unchanged),
        len(text),
        len(result),
        text,
    )


def is_canonical(text: str) -> bool:
    return "\r" not in text and unicodedata.is_normalized("NFC", text)
