"""A Report as one self-contained HTML file. No Django.

Self-contained means a reader can mail the file or open it offline and see
everything: CSS inline in <style>, figures as inline SVG, no scripts, no
external or relative URLs (only in-page "#fragment" links). The same markup,
with print CSS, is what WeasyPrint lays out for the PDF (render_pdf.py), so the
two formats cannot drift apart.
"""

from __future__ import annotations

import re
from html import escape

from .document import (
    SIMULATED_LABEL,
    Bullets,
    Checklist,
    Cite,
    Figure,
    Heading,
    Inline,
    Num,
    Para,
    Quote,
    Report,
    Section,
    Table,
)
from .layout import (
    CHECKLIST_COLUMNS,
    CONTENTS_TITLE,
    KIND_NAMES,
    PROVENANCE_INTRO,
    PROVENANCE_TITLE,
    ColumnPlan,
    Placed,
    caption_label,
    contents,
    document_title,
    is_numeric,
    plan_columns,
    walk,
)

LANGUAGE = "en-GB"

_SCREEN_CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 1rem;
  line-height: 1.5; color: #1a1a1a; background: #ffffff; margin: 0; }
.page { max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
.simulated-banner { background: #7a2e00; color: #ffffff; font-weight: bold;
  text-align: center; padding: .5rem 1rem; margin: 0; }
"""

_COMMON_CSS = """
h1, h2, h3, h4, h5, h6 { font-family: "DejaVu Serif", Georgia, serif; line-height: 1.25;
  color: #102a43; }
h1 { font-size: 2rem; margin: 1.5rem 0 .25rem; }
h2 { font-size: 1.5rem; margin-top: 2rem; border-bottom: 2px solid #01665e; }
h3 { font-size: 1.25rem; margin-top: 1.5rem; }
h4, h5, h6 { font-size: 1.05rem; margin-top: 1.25rem; }
.subtitle { font-size: 1.2rem; margin: 0; }
.study, .kind { margin: .25rem 0; color: #3b3b3b; }
.lead { font-size: 1.15rem; }
.note { font-size: .9rem; color: #3b3b3b; }
.callout { border-left: 6px solid #01665e; background: #eef7f6; padding: .5rem 1rem;
  margin: 1rem 0; }
.num { font-variant-numeric: tabular-nums; }
nav.contents ol { padding-left: 1.25rem; }
nav.contents a { color: #0b4f8a; }
figure { margin: 1.5rem 0; }
figure.quote { border-left: 4px solid #8c510a; padding: .25rem 1rem; margin-left: 0; }
figure.quote blockquote { margin: 0; font-style: italic; font-size: 1.05rem; }
figure.quote figcaption { margin-top: .25rem; color: #3b3b3b; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #8a8a8a; padding: .3rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #e6eef0; }
tbody th { font-weight: normal; }
td.numeric { text-align: right; }
.status-missing { font-weight: bold; color: #7a2e00; }
.table-note, .source { font-size: .85rem; color: #3b3b3b; margin: .25rem 0; }
.chart svg { max-width: 100%; height: auto; }
.chart figcaption { font-weight: bold; }
.provenance td { font-family: "DejaVu Sans Mono", monospace; font-size: .8rem;
  word-break: break-all; }
"""

_PAGE_CSS = """
@page { size: A4; margin: 24mm 18mm 20mm;
  @top-center { content: %(top)s; color: #7a2e00; font-weight: bold;
    font-family: "DejaVu Sans", sans-serif; font-size: 9pt; }
  @bottom-left { content: %(title)s; font-family: "DejaVu Sans", sans-serif;
    font-size: 8pt; color: #3b3b3b; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Sans", sans-serif; font-size: 8pt; color: #3b3b3b; } }
"""

_PRINT_CSS = """
html { font-size: 10.5pt; }
body { font-family: "DejaVu Sans", sans-serif; line-height: 1.4; color: #1a1a1a; margin: 0; }
.simulated-banner { display: block; text-align: center;
  font-weight: bold; color: #7a2e00; border: 1pt solid #7a2e00; padding: 2mm; }
h2 { break-before: page; }
h1, h2, h3, h4, h5, h6, caption, figcaption { break-after: avoid; }
figure.chart, figure.quote, tr, blockquote { break-inside: avoid; }
thead { display: table-header-group; }
table { table-layout: fixed; }
th, td { overflow-wrap: anywhere; }
td.numeric { overflow-wrap: normal; white-space: nowrap; }
table.type-90 { font-size: .81rem; }
table.type-80 { font-size: .72rem; }
table.type-70 { font-size: .63rem; }
.provenance td { word-break: normal; }
nav.contents a { text-decoration: none; color: #1a1a1a; }
nav.contents a::after { content: leader(".") target-counter(attr(href), page); }
"""

_SVG_ID = re.compile(r'\bid="([^"]+)"')
_XML_PROLOGUE = re.compile(r"^\s*<\?xml[^>]*>\s*", re.IGNORECASE)


def render_html(report: Report) -> bytes:
    """The screen HTML: one file, a banner on top when the data are simulated."""
    return html_document(report, for_print=False).encode("utf-8")


def html_document(report: Report, *, for_print: bool) -> str:
    """The report's HTML; ``for_print`` swaps the CSS for paged media (WeasyPrint)."""
    css = _COMMON_CSS + (_print_css(report) if for_print else _SCREEN_CSS)
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{LANGUAGE}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(document_title(report))}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
    ]
    # Landmarks hold everything: the banner and title in <header>, the contents in
    # <nav>, the report in <main>, the closing label in <footer>.
    out.append("<header>")
    if report.simulated:
        out.append(f'<p class="simulated-banner" role="note">{escape(SIMULATED_LABEL)}</p>')
    out.append('<div class="page">')
    out.append(f'<p class="kind">{escape(KIND_NAMES.get(report.kind, report.kind))}</p>')
    out.append(f'<h1 class="doc-title">{escape(report.title)}</h1>')
    if report.subtitle:
        out.append(f'<p class="subtitle">{escape(report.subtitle)}</p>')
    if report.study_title:
        out.append(f'<p class="study">{escape(report.study_title)}</p>')
    out.append("</div>")
    out.append("</header>")
    out.append('<div class="page">')
    out.extend(_contents(report))
    out.append("<main>")
    out.extend(_body(report))
    out.extend(_provenance(report))
    out.append("</main>")
    out.append("</div>")
    if report.simulated:
        out.append(f'<footer class="page"><p class="note">{escape(SIMULATED_LABEL)}.</p></footer>')
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def _contents(report: Report) -> list[str]:
    tree: list[tuple[str, str, list[tuple[str, str]]]] = []
    for level, title, anchor in contents(report):
        if level == 1 or not tree:
            tree.append((title, anchor, []))
        else:
            tree[-1][2].append((title, anchor))
    out = [
        '<nav class="contents" aria-labelledby="contents-title">',
        f'<h2 id="contents-title">{CONTENTS_TITLE}</h2>',
        "<ol>",
    ]
    for title, anchor, children in tree:
        nested = "".join(f'<li><a href="#{a}">{escape(t)}</a></li>' for t, a in children)
        out.append(
            f'<li><a href="#{anchor}">{escape(title)}</a>'
            + (f"<ol>{nested}</ol>" if nested else "")
            + "</li>"
        )
    out.extend(["</ol>", "</nav>"])
    return out


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string, safe inside <style> (no "</style>" break-out)."""
    replacements = {'"': '\\"', "\\": "\\\\", "\n": "\\a ", "<": "\\3c "}
    escaped = "".join(replacements.get(ch, ch) for ch in text)
    return f'"{escaped}"'


def _print_css(report: Report) -> str:
    # The label goes into every page's top margin box, so no page of the PDF,
    # printed or extracted alone, can be mistaken for real findings.
    top = css_string(SIMULATED_LABEL) if report.simulated else "none"
    page = _PAGE_CSS % {"top": top, "title": css_string(report.title)}
    return page + _PRINT_CSS


def _body(report: Report) -> list[str]:
    out: list[str] = []
    for placed in walk(report):
        out.extend(_placed(placed))
    return out


def _h(level: int) -> int:
    """The HTML heading for an outline level: h1 is the report's title."""
    return min(level + 1, 6)


def _placed(placed: Placed) -> list[str]:
    block = placed.block
    if isinstance(block, Section):
        h = _h(placed.level)
        return [f'<h{h} id="{placed.anchor}">{escape(block.title)}</h{h}>']
    if isinstance(block, Heading):
        h = _h(placed.level)
        return [f"<h{h}>{escape(block.text)}</h{h}>"]
    if isinstance(block, Para):
        text = _inlines(block.content)
        if block.style == "body":
            return [f"<p>{text}</p>"]
        if block.style == "callout":
            return [f'<div class="callout" role="note"><p>{text}</p></div>']
        return [f'<p class="{block.style}">{text}</p>']
    if isinstance(block, Bullets):
        tag = "ol" if block.ordered else "ul"
        items = "".join(f"<li>{_inlines(item)}</li>" for item in block.items)
        return [f"<{tag}>{items}</{tag}>"]
    if isinstance(block, Quote):
        return [
            '<figure class="quote">',
            f"<blockquote><p>{escape(block.text)}</p></blockquote>",
            f"<figcaption>— {escape(block.attribution)}{_source(block.cite, ' ')}</figcaption>",
            "</figure>",
        ]
    if isinstance(block, Table):
        return _table(block, placed)
    if isinstance(block, Checklist):
        return _checklist(block, placed)
    if isinstance(block, Figure):
        return _figure(block, placed)
    raise TypeError(f"Not a report block: {block!r}")


def _inline(item: Inline) -> str:
    if isinstance(item, Num):
        return (
            f'<span class="num" data-cite="{escape(item.cite.ref)}" '
            f'title="{escape(item.cite.label)}">{escape(item.text)}</span>'
        )
    return escape(item)


def _inlines(content: tuple[Inline, ...]) -> str:
    return "".join(_inline(item) for item in content)


def _source(cite: Cite | None, prefix: str = "") -> str:
    if cite is None or not cite.label:
        return ""
    return (
        f'{prefix}<span class="source" data-cite="{escape(cite.ref)}">[{escape(cite.label)}]</span>'
    )


def _caption(block: Table | Checklist | Figure, placed: Placed) -> str:
    return f"{caption_label(block, placed.number)} {escape(block.caption)}"


def _table(block: Table, placed: Placed) -> list[str]:
    out = [
        f'<figure class="table" id="{placed.anchor}">',
        _table_open(plan := plan_columns(block.columns, block.rows)),
        f"<caption>{_caption(block, placed)}</caption>",
        _colgroup(plan),
        "<thead><tr>",
        *(f'<th scope="col">{escape(column)}</th>' for column in block.columns),
        "</tr></thead>",
        "<tbody>",
    ]
    if not block.rows:
        out.append(f'<tr><td colspan="{max(1, len(block.columns))}">No rows.</td></tr>')
    for row in block.rows:
        cells = []
        for index, cell in enumerate(row):
            if index == 0:
                cells.append(f'<th scope="row">{_inline(cell)}</th>')
            elif is_numeric(cell):
                cells.append(f'<td class="numeric">{_inline(cell)}</td>')
            else:
                cells.append(f"<td>{_inline(cell)}</td>")
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    out.extend(f'<p class="table-note">{escape(note)}</p>' for note in block.notes)
    if block.cite is not None and block.cite.label:
        out.append(f'<p class="source">Source: {escape(block.cite.label)}</p>')
    out.append("</figure>")
    return out


def _colgroup(plan: ColumnPlan) -> str:
    columns = "".join(f'<col style="width: {width}%">' for width in plan.widths)
    return f"<colgroup>{columns}</colgroup>"


def _table_open(plan: ColumnPlan) -> str:
    """<table>, with a class setting it smaller on paper when its columns need it."""
    return "<table>" if plan.type_size == 100 else f'<table class="type-{plan.type_size}">'


def _checklist_plan(block: Checklist) -> ColumnPlan:
    rows = tuple((i.number, i.item, i.where or "—", i.status) for i in block.items)
    return plan_columns(CHECKLIST_COLUMNS, rows)


def _checklist(block: Checklist, placed: Placed) -> list[str]:
    out = [
        f'<figure class="table checklist" id="{placed.anchor}">',
        _table_open(plan := _checklist_plan(block)),
        f"<caption>{_caption(block, placed)}</caption>",
        _colgroup(plan),
        "<thead><tr>",
        *(f'<th scope="col">{column}</th>' for column in CHECKLIST_COLUMNS),
        "</tr></thead>",
        "<tbody>",
    ]
    for item in block.items:
        status_class = "status-" + item.status.replace(" ", "-")
        out.append(
            f'<tr><th scope="row">{escape(item.number)}</th><td>{escape(item.item)}</td>'
            f"<td>{escape(item.where or '—')}</td>"
            f'<td class="{status_class}">{escape(item.status)}</td></tr>'
        )
    if not block.items:
        out.append(f'<tr><td colspan="{len(CHECKLIST_COLUMNS)}">No items.</td></tr>')
    out.append("</tbody></table></figure>")
    return out


def scoped_svg(svg: str, scope: str) -> str:
    """The SVG with its ids prefixed by ``scope``, so two figures never share an id.

    Content may draw the same chart twice, and charts reuse id patterns; a
    duplicated id breaks aria-labelledby. Only ids defined in this SVG are
    rewritten, with their references (aria-labelledby, url(#…), href="#…").
    """
    svg = _XML_PROLOGUE.sub("", svg)
    ids = sorted(set(_SVG_ID.findall(svg)), key=len, reverse=True)
    if not ids:
        return svg
    names = "|".join(re.escape(name) for name in ids)
    svg = re.sub(rf'\bid="({names})"', lambda m: f'id="{scope}-{m.group(1)}"', svg)
    svg = re.sub(rf"url\(#({names})\)", lambda m: f"url(#{scope}-{m.group(1)})", svg)
    svg = re.sub(rf'href="#({names})"', lambda m: f'href="#{scope}-{m.group(1)}"', svg)

    def relabel(match: re.Match[str]) -> str:
        refs = " ".join(f"{scope}-{ref}" if ref in ids else ref for ref in match.group(2).split())
        return f'{match.group(1)}="{refs}"'

    return re.sub(r'(aria-labelledby|aria-describedby)="([^"]*)"', relabel, svg)


def _figure(block: Figure, placed: Placed) -> list[str]:
    # The wrapper carries the report's alt text; the SVG inside is presentational
    # to assistive technology (children of role="img"), its own <desc> kept for
    # anyone reading the source.
    out = [
        f'<figure class="chart" id="{placed.anchor}">',
        f'<div class="figure-image" role="img" aria-label="{escape(block.alt)}">',
        scoped_svg(block.svg, placed.anchor),
        "</div>",
        f"<figcaption>{_caption(block, placed)}</figcaption>",
    ]
    if block.cite is not None and block.cite.label:
        out.append(f'<p class="source">Source: {escape(block.cite.label)}</p>')
    out.append("</figure>")
    return out


def _provenance(report: Report) -> list[str]:
    out = [
        f'<section class="provenance" aria-labelledby="provenance">'
        f'<h2 id="provenance">{PROVENANCE_TITLE}</h2>',
        f"<p>{escape(PROVENANCE_INTRO)}</p>",
        "<table>",
        f"<caption>{PROVENANCE_TITLE} of this report</caption>",
        _colgroup(ColumnPlan((35.0, 65.0))),
        '<thead><tr><th scope="col">Input</th><th scope="col">Value</th></tr></thead>',
        "<tbody>",
    ]
    for label, value in report.provenance.items:
        out.append(f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>')
    if not report.provenance.items:
        out.append('<tr><td colspan="2">No provenance recorded.</td></tr>')
    out.append("</tbody></table></section>")
    return out
