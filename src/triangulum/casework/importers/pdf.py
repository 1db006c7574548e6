"""PDF files: the text layer, page by page (a scanned PDF without one is refused)."""

from __future__ import annotations

import io

from .errors import SourceFileError


def read_pdf(file_name: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceFileError(file_name, "is an encrypted PDF; remove the password first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SourceFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise SourceFileError(file_name, f"is not a readable PDF ({error})") from None
    if not pages:
        raise SourceFileError(file_name, "is a PDF with no pages")
    if not any(page.strip() for page in pages):
        raise SourceFileError(
            file_name,
            f"has no text layer in any of its {len(pages)} page(s) (a scanned image?); "
            "run it through OCR first, or import a text version",
        )
    # A form feed would be an odd character to code across; pages are separated by a
    # blank line instead.
    return "\n\n".join(page.rstrip() for page in pages)
