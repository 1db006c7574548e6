"""Charts for reports, as SVG text. Pure functions, no Django.

The diverging Likert chart reuses the analysis app's drawing (analysis/svg.py),
so a chart in a report looks like the one on the analysis page and shares its
colour-blind-safe palette. Horizontal bars are drawn here. Every figure id is
derived from the title, never random, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from html import escape

from triangulum.analysis import svg as analysis_svg

_BAR_FILL = "#01665e"  # the darkest teal of the analysis palette: contrast 7:1 on white
_TEXT = "#1a1a1a"
_FONT = "DejaVu Sans, sans-serif"


def figure_id(title: str, prefix: str = "fig") -> str:
    """A stable, document-unique-enough id for a figure's <title>/<desc>."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32] or "figure"
    digest = hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{slug}-{digest}"


def diverging_likert(
    items: list[str],
    categories: list[str],
    shares: list[list[float]],
    title: str,
) -> str:
    """One diverging stacked bar per item, negative categories left of zero.

    ``categories`` run negative..positive; with an odd number the middle one
    straddles zero. ``shares`` has one row per item, one share per category.
    Shares are printed on the bars and listed in the description, so colour is
    never the only cue.
    """
    if len(items) != len(shares):
        raise ValueError(f"{len(items)} items but {len(shares)} rows of shares for {title!r}")
    for item, row in zip(items, shares, strict=True):
        if len(row) != len(categories):
            raise ValueError(
                f"Item {item!r} has {len(row)} shares but there are {len(categories)} categories"
            )
    rows = [
        (item, [float(share) for share in row]) for item, row in zip(items, shares, strict=True)
    ]
    return analysis_svg.diverging_bars(
        rows, categories, title=title, figure_id=figure_id(title, "likert")
    )


def bars(
    labels: list[str],
    values: list[float],
    value_format: str = "{:.0%}",
    title: str = "",
) -> str:
    """Horizontal bars (response rates, typology class sizes), value printed at each bar."""
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values for {title!r}")
    ident = figure_id(title or "|".join(labels), "bars")
    # The title is the SVG's <title> (read by screen readers); the report's
    # caption prints it, so it is not drawn a second time.
    # Room for the longest label at about 7 px a character (DejaVu Sans at 12 px is
    # wide), so no label is cut off at the left edge.
    longest = max((len(label) for label in labels), default=0)
    label_width = min(max(120, round(7 * longest) + 16), 460)
    plot_width, row_height, top = 380, 30, 12
    width = label_width + plot_width + 80
    height = top + row_height * len(labels) + 16
    largest = max((value for value in values if value > 0), default=1.0)
    # Shares are drawn on a 0..100 % axis so two charts of rates compare by eye.
    full_scale = 1.0 if "%" in value_format and largest <= 1.0 else largest
    printed = [value_format.format(value) for value in values]
    spoken = "; ".join(f"{label}: {text}" for label, text in zip(labels, printed, strict=True))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{_FONT}" font-size="12">',
        f'<title id="{ident}-title">{escape(title or "Bar chart")}</title>',
        f'<desc id="{ident}-desc">{escape(spoken)}.</desc>',
    ]
    parts.append(
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
        f'y2="{top + row_height * len(labels)}" stroke="#333" stroke-width="1"/>'
    )
    for index, (label, value, text) in enumerate(zip(labels, values, printed, strict=True)):
        y = top + index * row_height
        length = max(0.0, value) / full_scale * plot_width
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" fill="{_TEXT}">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 5}" width="{length:.2f}" height="{row_height - 10}" '
            f'fill="{_BAR_FILL}"><title>{escape(label)}: {escape(text)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_width + length + 6:.2f}" y="{y + 19}" fill="{_TEXT}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
