"""Reading source files into Triangulum's canonical text, with speaker turns.

Pure: no Django. ``read_source_file`` takes a file's name and bytes and returns the
canonical text (NFC, ``\\n`` line endings), the media type to keep with the original,
and the speaker turns. Each format lives in its own module; every failure is a
``SourceFileError`` naming the file (and the line, where there is one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from triangulum.casework.textoffsets import canonicalise

from .captions import read_captions
from .docx import read_docx
from .errors import SourceFileError
from .odt import read_odt
from .pdf import read_pdf
from .plain import decode_text
from .turns import TurnSpan, find_turns

MEDIA_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
}
SUPPORTED_EXTENSIONS = tuple(MEDIA_TYPES)


@dataclass(frozen=True)
class ReadSource:
    """A file read and canonicalised, ready to store."""

    file_name: str
    text: str
    media_type: str
    sha256: str
    turns: tuple[TurnSpan, ...]


def extension_of(file_name: str) -> str:
    return PurePath(file_name).suffix.lower()


def text_of(file_name: str, data: bytes) -> tuple[str, list[TurnSpan] | None]:
    """The text of a file in any supported format, and its turns if the format gives them."""
    extension = extension_of(file_name)
    if extension in (".txt", ".md"):
        return decode_text(file_name, data), None
    if extension == ".docx":
        return read_docx(file_name, data), None
    if extension == ".pdf":
        return read_pdf(file_name, data), None
    if extension == ".odt":
        return read_odt(file_name, data), None
    if extension in (".vtt", ".srt"):
        text, _ = canonicalise(decode_text(file_name, data))
        return read_captions(file_name, text, webvtt=extension == ".vtt")
    supported = ", ".join(SUPPORTED_EXTENSIONS)
    raise SourceFileError(
        file_name,
        f'files of type "{extension or "(no extension)"}" cannot be imported; '
        f"supported: {supported}",
    )


def read_source_file(
    file_name: str, data: bytes, *, known_labels: Iterable[str] = ()
) -> ReadSource:
    """Read ``data`` (the bytes of ``file_name``) into canonical text and speaker turns."""
    raw, given_turns = text_of(file_name, data)
    text, offsets = canonicalise(raw)
    if not text.strip():
        raise SourceFileError(file_name, "has no text")
    if given_turns is not None and offsets.is_identity:
        turns = given_turns
    else:
        turns = find_turns(text, known_labels=known_labels)
    return ReadSource(
        file_name=PurePath(file_name).name,
        text=text,
        media_type=MEDIA_TYPES[extension_of(file_name)],
        sha256=hashlib.sha256(data).hexdigest(),
        turns=tuple(turns),
    )


__all__ = [
    "MEDIA_TYPES",
    "SUPPORTED_EXTENSIONS",
    "ReadSource",
    "SourceFileError",
    "TurnSpan",
    "find_turns",
    "read_source_file",
]
