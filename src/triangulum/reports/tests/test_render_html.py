"""The HTML renderer: one self-contained, accessible file."""

import re
from html.parser import HTMLParser

from triangulum.reports.document import SIMULATED_LABEL, Figure, Section
from triangulum.reports.render_html import css_string, render_html, scoped_svg
from triangulum.reports.tests.checks import external_references
from triangulum.reports.tests.sample_report import sample_report


class _Outline(HTMLParser):
    """Collects the heading levels, ids and table header cells of a page."""

    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.th_without_scope = 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "th" and attributes.get("scope") not in ("col", "row"):
            self.th_without_scope += 1


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def test_html_is_self_contained():
    html = render_html(sample_report()).decode("utf-8")
    assert external_references(html) == []
    assert "<style>" in html
    assert "<script" not in html
    assert html.count("<svg") == 2  # both figures inline


def test_the_check_would_catch_external_references():
    # The self-containment check itself must be able to fail.
    for bad in (
        '<img src="chart.png">',
        '<a href="https://example.org/">x</a>',
        '<link rel="stylesheet" href="x.css">',
        '<script src="x.js"></script>',
        "<style>body { background: url(bg.png) }</style>",
        '<image xlink:href="http://example.org/x.png"/>',
    ):
        assert external_references(bad), bad
    assert external_references('<a href="#table-1">Table 1</a>') == []


def test_html_is_accessible_in_structure():
    html = render_html(sample_report()).decode("utf-8")
    outline = _outline(html)
    assert outline.lang == "en-GB"
    assert outline.headings[0] == 1 and outline.headings.count(1) == 1
    for previous, current in zip(outline.headings, outline.headings[1:], strict=False):
        assert current <= previous + 1, outline.headings
    assert outline.th_without_scope == 0
    assert len(outline.ids) == len(set(outline.ids)), "duplicate ids"
    # Every figure has the report's alt text on an element with an image role.
    assert 'role="img" aria-label="Diverging bars: more agree than disagree on both items."' in html


def test_captions_are_numbered_tables_and_figures_in_one_order():
    html = render_html(sample_report()).decode("utf-8")
    captions = re.findall(r"(Table|Figure) (\d+)\. ", re.sub(r"<[^>]+>", "", html))
    assert captions == [
        ("Table", "1"),
        ("Figure", "1"),
        ("Figure", "2"),
        ("Table", "2"),
        ("Table", "3"),
    ]


def test_simulated_banner_on_top_and_absent_for_real_data():
    html = render_html(sample_report(simulated=True)).decode("utf-8")
    body = html.split("<body>", 1)[1]
    assert body.lstrip().startswith('<header>\n<p class="simulated-banner" role="note">')
    assert SIMULATED_LABEL in body
    real = render_html(sample_report(simulated=False)).decode("utf-8")
    assert SIMULATED_LABEL not in real


def test_text_is_escaped_and_numbers_keep_their_source():
    html = render_html(sample_report()).decode("utf-8")
    assert "commissioning &amp; redesign &lt;test&gt;" in html
    assert "<test>" not in html
    assert 'data-cite="fieldwork:wave/wave-1/rates"' in html


def test_same_report_same_bytes():
    assert render_html(sample_report()) == render_html(sample_report())


def test_figure_ids_are_scoped_per_figure():
    report = sample_report()
    figure = next(b for b in report.blocks() if isinstance(b, Figure))
    twice = Section("Twice", (figure, figure))
    doubled = type(report)(**{**report.__dict__, "sections": (*report.sections, twice)})
    outline = _outline(render_html(doubled).decode("utf-8"))
    assert len(outline.ids) == len(set(outline.ids))


def test_scoped_svg_rewrites_ids_and_their_references():
    svg = (
        '<?xml version="1.0"?><svg aria-labelledby="t d"><title id="t">T</title>'
        '<desc id="d">D</desc><rect fill="url(#g)"/><linearGradient id="g"/></svg>'
    )
    scoped = scoped_svg(svg, "figure-2")
    assert scoped.startswith("<svg")
    assert 'aria-labelledby="figure-2-t figure-2-d"' in scoped
    assert 'id="figure-2-g"' in scoped and "url(#figure-2-g)" in scoped


def test_css_strings_cannot_break_out_of_the_style_element():
    assert css_string('a "b" </style>') == '"a \\"b\\" \\3c /style>"'


def test_column_plan_keeps_numbers_whole_and_shrinks_only_crowded_tables():
    from triangulum.reports.layout import plan_columns

    plan = plan_columns(
        ("Item", "n", "Share"),
        (("How much influence does your CCG have over commissioning", "1,163", "60.4%"),),
    )
    assert plan.type_size == 100
    assert abs(sum(plan.widths) - 100) < 0.5
    # 74 characters a line: "1,163" plus padding needs 8, so at least ~10%.
    assert plan.widths[1] >= 100 * 8 / 74 - 0.5
    assert plan.widths[0] > plan.widths[1]
    crowded = plan_columns(
        tuple(f"Substantive column {i}" for i in range(9)),
        (tuple("1,234,567" for _ in range(9)),),
    )
    assert crowded.type_size < 100
    assert plan_columns((), ()).widths == ()


def test_print_variant_sets_fixed_table_layout_and_page_boxes():
    from triangulum.reports.render_html import html_document

    printed = html_document(sample_report(), for_print=True)
    assert "table-layout: fixed" in printed and "@page" in printed
    assert f'content: "{SIMULATED_LABEL}"' in printed
    assert "@page" not in render_html(sample_report()).decode("utf-8")
