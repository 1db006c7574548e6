"""SVG figures as PNG for Word, which cannot be relied on to show SVG. No Django.

The SVG is laid out by WeasyPrint on a page exactly its size (the same engine
that draws it in the PDF, so the two agree), and the one-page PDF is rasterised
by PDFium at a fixed scale. Both steps are deterministic for the same input on
the same libraries, and the PNG is written without timestamps or text chunks.
Results are cached by SVG text because a build writes the same figure into the
Word file of a report once, but the same chart may appear in several reports.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import pypdfium2
from weasyprint import HTML

# 2 image pixels per CSS pixel: sharp at the 16 cm the figure is printed at.
PIXELS_PER_CSS_PIXEL = 2.0
_POINTS_PER_CSS_PIXEL = 0.75
_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(?:px)?"[^>]*?\bheight="([\d.]+)(?:px)?"', re.S)
_VIEWBOX = re.compile(
    r'<svg\b[^>]*?\bviewBox="[\d.\-]+[ ,]+[\d.\-]+[ ,]+([\d.]+)[ ,]+([\d.]+)"', re.S
)
_XML_PROLOGUE = re.compile(r"^\s*<\?xml[^>]*>\s*", re.IGNORECASE)
DEFAULT_SIZE = (640.0, 400.0)


def svg_size(svg: str) -> tuple[float, float]:
    """The SVG's width and height in CSS pixels (attributes, else the viewBox)."""
    for pattern in (_SIZE, _VIEWBOX):
        match = pattern.search(svg)
        if match:
            return float(match.group(1)), float(match.group(2))
    return DEFAULT_SIZE


@lru_cache(maxsize=256)
def svg_to_png(svg: str) -> bytes:
    width, height = svg_size(svg)
    svg = _XML_PROLOGUE.sub("", svg)
    page = (
        "<!DOCTYPE html><html><head><style>"
        f"@page {{ size: {width}px {height}px; margin: 0 }}"
        "html, body { margin: 0; padding: 0; background: #ffffff; }"
        "svg { display: block; }"
        "</style></head><body>"
        f"{svg}</body></html>"
    )
    pdf = HTML(string=page).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(
            scale=PIXELS_PER_CSS_PIXEL / _POINTS_PER_CSS_PIXEL, fill_color=(255, 255, 255, 255)
        )
        image = bitmap.to_pil().convert("RGB")
    finally:
        document.close()
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=False, dpi=(192, 192))
    return output.getvalue()
