"""Word (.docx) files: the paragraphs of the body, in order, one per line."""

from __future__ import annotations

import io
import zipfile

from .errors import SourceFileError


def read_docx(file_name: str, data: bytes) -> str:
    import docx  # python-docx; imported here because it is slow to load

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SourceFileError(file_name, f"is not a readable Word document ({error})") from None
    except Exception as error:  # python-docx raises its own and lxml's errors on bad parts
        raise SourceFileError(
            file_name, f"is not a readable Word document ({type(error).__name__}: {error})"
        ) from None
    paragraphs = []
    for block in _body_blocks(document):
        paragraphs.append(block)
    return "\n".join(paragraphs)


def _body_blocks(document):
    """Paragraphs and table rows in document order (tables become tab-separated lines)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            yield item.text
        elif isinstance(item, Table):
            for row in item.rows:
                yield "\t".join(cell.text for cell in row.cells)
