"""A Report as an A4 PDF, laid out by WeasyPrint from the print variant of the HTML. No Django.

WeasyPrint embeds subsetted fonts (DejaVu here) and writes no clock time of its
own; the document dates and the PDF file identifier are fixed below so the
same Report gives the same bytes on every run.
"""

from __future__ import annotations

import hashlib

from weasyprint import HTML

from .document import Report
from .render_html import html_document

# The PDF's creation and modification dates. A build time would make every
# build differ; the provenance appendix says which data and code it came from.
FIXED_DATE = "2000-01-01T00:00:00Z"
AUTHOR = "Triangulum"


def render_pdf(report: Report) -> bytes:
    markup = html_document(report, for_print=True)
    document = HTML(string=markup).render()
    metadata = document.metadata
    metadata.created = FIXED_DATE
    metadata.modified = FIXED_DATE
    metadata.authors = [AUTHOR]
    metadata.generator = AUTHOR
    # The file identifier is derived from the content, as the PDF standard intends
    # (two files with the same identifier are the same document).
    identifier = hashlib.sha256(markup.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return document.write_pdf(pdf_identifier=identifier, pdf_tags=True)
