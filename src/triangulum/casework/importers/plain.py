"""Plain text and Markdown files: decoded as UTF-8 (or UTF-16 with a byte-order mark)."""

from __future__ import annotations

from .errors import SourceFileError


def decode_text(file_name: str, data: bytes) -> str:
    """The text of ``data``; refuses bytes that are not UTF-8, naming the line at fault.

    Guessing a legacy encoding (Windows-1252 decodes almost any bytes) would store
    mis-read text silently, so a file in another encoding is refused with a way out.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise SourceFileError(file_name, f"is not valid UTF-16 ({error.reason})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceFileError(
            file_name,
            f"byte {error.start} is not valid UTF-8; save the file as UTF-8 and import it again",
            line=line,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SourceFileError(
            file_name, "contains a NUL character, so it is not a text file", line=line
        )
    return text


def read_plain(file_name: str, data: bytes) -> str:
    return decode_text(file_name, data)
