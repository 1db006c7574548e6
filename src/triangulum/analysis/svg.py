"""Hand-written SVG figures (no plotting library is installed). No Django here.

Accessible: each figure is ``role="img"`` with a <title> and a <desc> that states the
figure's numbers in words, so a screen reader gets the content, not only a label.
Colours: a colour-blind-safe diverging palette (ColorBrewer BrBG, which stays
distinguishable under the common colour-vision deficiencies) plus text labels, so
colour is never the only cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Disagreeing side (browns), neutral (grey), agreeing side (teals).
_NEGATIVE = ("#8c510a", "#d8b365", "#f0dfb4")
_NEUTRAL = "#d9d9d9"
_POSITIVE = ("#c7eae5", "#5ab4ac", "#01665e")
_TEXT = "#1a1a1a"


def palette(size: int) -> list[str]:
    """Colours for a scale of ``size`` points, lowest first (odd sizes get a neutral)."""
    half = size // 2
    if half > len(_NEGATIVE):
        raise ValueError(f"At most {2 * len(_NEGATIVE) + 1} scale points can be drawn.")
    # The strongest colours at the ends; lighter ones towards the middle.
    negative = list(_NEGATIVE[:half]) if half == 3 else [_NEGATIVE[0], _NEGATIVE[1]][2 - half :]
    positive = list(_POSITIVE[-half:]) if half == 3 else [_POSITIVE[1], _POSITIVE[2]][:half]
    if half == 1:
        negative, positive = [_NEGATIVE[1]], [_POSITIVE[1]]
    return negative + ([_NEUTRAL] if size % 2 else []) + positive


def _text_colour(fill: str) -> str:
    return "#ffffff" if fill in (_NEGATIVE[0], _POSITIVE[2]) else _TEXT


def diverging_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    scale_labels: Sequence[str],
    *,
    title: str,
    note: str = "",
    figure_id: str = "figure",
) -> str:
    """A diverging stacked bar per row: shares of each scale point, centred on neutral.

    ``rows`` are (label, shares lowest first, summing to 1 over substantive answers).
    """
    size = len(scale_labels)
    colours = palette(size)
    label_width, bar_width, row_height, top = 260, 480, 34, 70
    height = top + row_height * len(rows) + 60
    width = label_width + bar_width + 30
    centre = label_width + bar_width / 2
    scale = bar_width / 2  # pixels per 100 % on one side
    half = size // 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{figure_id}-title {figure_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{figure_id}-title">{escape(title)}</title>',
    ]
    described = []
    for label, shares in rows:
        spoken = ", ".join(f"{scale_labels[i]} {100 * s:.0f}%" for i, s in enumerate(shares))
        described.append(f"{label}: {spoken}")
    parts.append(
        f'<desc id="{figure_id}-desc">{escape(note + " " if note else "")}'
        f"{escape('; '.join(described))}.</desc>"
    )
    # Legend
    x = 10
    for i, name in enumerate(scale_labels):
        parts.append(
            f'<rect x="{x}" y="12" width="14" height="14" fill="{colours[i]}" stroke="#555" stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{x + 18}" y="23" fill="{_TEXT}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    parts.append(
        f'<line x1="{centre}" y1="{top - 8}" x2="{centre}" y2="{top + row_height * len(rows)}" '
        'stroke="#333" stroke-width="1"/>'
    )
    for index, (label, shares) in enumerate(rows):
        y = top + index * row_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 20}" text-anchor="end" fill="{_TEXT}">{escape(label)}</text>'
        )
        neutral = shares[half] if size % 2 else 0.0
        left = sum(shares[:half]) + neutral / 2
        x = centre - left * scale
        for i, share in enumerate(shares):
            w = share * scale
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.2f}" y="{y + 4}" width="{w:.2f}" height="{row_height - 10}" '
                f'fill="{colours[i]}"><title>{escape(label)}: {escape(scale_labels[i])} '
                f"{100 * share:.1f}%</title></rect>"
            )
            if share >= 0.07:
                parts.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + 20}" text-anchor="middle" '
                    f'fill="{_text_colour(colours[i])}">{100 * share:.0f}%</text>'
                )
            x += w
    axis_y = top + row_height * len(rows) + 18
    for pct in (-100, -50, 0, 50, 100):
        ax = centre + pct / 100 * scale
        parts.append(
            f'<text x="{ax:.1f}" y="{axis_y}" text-anchor="middle" fill="{_TEXT}">{abs(pct)}%</text>'
        )
    if note:
        parts.append(f'<text x="10" y="{height - 12}" fill="{_TEXT}">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def dot_plot(
    points: Sequence[tuple[str, float, float | None, float | None]],
    *,
    title: str,
    axis_label: str,
    note: str = "",
    figure_id: str = "figure",
    lower: float | None = None,
    upper: float | None = None,
) -> str:
    """Points with optional interval bars: (label, value, low, high) per row."""
    values = [v for _, v, lo, hi in points for v in (v, lo, hi) if v is not None]
    low_end = min(values) if lower is None else lower
    high_end = max(values) if upper is None else upper
    if high_end == low_end:
        high_end = low_end + 1
    label_width, plot_width, row_height, top = 220, 420, 28, 40
    width = label_width + plot_width + 40
    height = top + row_height * len(points) + 60

    def x_of(value: float) -> float:
        return label_width + (value - low_end) / (high_end - low_end) * plot_width

    spoken = "; ".join(
        f"{label}: {value:.3g}" + (f" (interval {lo:.3g} to {hi:.3g})" if lo is not None else "")
        for label, value, lo, hi in points
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{figure_id}-title {figure_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{figure_id}-title">{escape(title)}</title>',
        f'<desc id="{figure_id}-desc">{escape(note + " " if note else "")}{escape(spoken)}.</desc>',
    ]
    for index, (label, value, lo, hi) in enumerate(points):
        y = top + index * row_height + row_height / 2
        parts.append(
            f'<text x="{label_width - 10}" y="{y + 4}" text-anchor="end" fill="{_TEXT}">{escape(label)}</text>'
        )
        if lo is not None and hi is not None:
            parts.append(
                f'<line x1="{x_of(lo):.2f}" y1="{y}" x2="{x_of(hi):.2f}" y2="{y}" stroke="{_POSITIVE[2]}" stroke-width="2"/>'
            )
        parts.append(f'<circle cx="{x_of(value):.2f}" cy="{y}" r="5" fill="{_NEGATIVE[0]}"/>')
    axis_y = top + row_height * len(points) + 10
    parts.append(
        f'<line x1="{label_width}" y1="{axis_y}" x2="{label_width + plot_width}" y2="{axis_y}" stroke="#333"/>'
    )
    for i in range(5):
        value = low_end + i * (high_end - low_end) / 4
        parts.append(
            f'<text x="{x_of(value):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{_TEXT}">{value:.3g}</text>'
        )
    parts.append(
        f'<text x="{label_width + plot_width / 2}" y="{axis_y + 36}" text-anchor="middle" fill="{_TEXT}">{escape(axis_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
