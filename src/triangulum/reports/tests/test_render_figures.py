"""Report charts: deterministic, accessible SVG; rasterised the same way every time."""

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from triangulum.reports.figures import bars, diverging_likert
from triangulum.reports.raster import svg_size, svg_to_png

SVG = "{http://www.w3.org/2000/svg}"
CATEGORIES = ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]


def test_diverging_likert_straddles_zero_and_reads_out_the_numbers():
    svg = diverging_likert(
        ["Item A", "Item B"],
        CATEGORIES,
        [[0.1, 0.2, 0.4, 0.2, 0.1], [0.0, 0.1, 0.2, 0.3, 0.4]],
        "Views",
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    description = root.find(f"{SVG}desc").text
    assert "Item A: Strongly disagree 10%" in description
    assert "Strongly agree 40%." in description
    # Item A is symmetric, so its neutral block is centred on the zero line.
    width = float(root.get("width"))
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    neutral = next(r for r in rects if "Item A: Neither" in r.find(f"{SVG}title").text)
    centre = float(neutral.get("x")) + float(neutral.get("width")) / 2
    zero = next(root.iter(f"{SVG}line"))
    assert centre == pytest.approx(float(zero.get("x1")), abs=0.02)
    assert svg == diverging_likert(
        ["Item A", "Item B"],
        CATEGORIES,
        [[0.1, 0.2, 0.4, 0.2, 0.1], [0.0, 0.1, 0.2, 0.3, 0.4]],
        "Views",
    )
    assert width > 0


def test_bars_label_each_value_in_text():
    svg = bars(["Wave 1", "Wave 2"], [0.62, 0.483], title="Response rate")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "62%" in texts and "48%" in texts and "Wave 2" in texts
    lengths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert lengths[0] > lengths[1] > 0
    counts = bars(["Class 1", "Class 2"], [120, 40], value_format="{:,.0f}", title="Sizes")
    assert ">120<" in counts and ">40<" in counts


def test_bars_ids_differ_between_charts():
    first = ET.fromstring(bars(["a"], [0.5], title="One"))
    second = ET.fromstring(bars(["a"], [0.5], title="Two"))
    assert first.find(f"{SVG}title").get("id") != second.find(f"{SVG}title").get("id")


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="2 labels but 1 values"):
        bars(["a", "b"], [0.1])
    with pytest.raises(ValueError, match="Item 'A' has 2 shares but there are 5 categories"):
        diverging_likert(["A"], CATEGORIES, [[0.5, 0.5]], "x")


def test_raster_is_deterministic_and_sized_from_the_svg():
    svg = bars(["Wave 1", "Wave 2"], [0.62, 0.48], title="Rates")
    png = svg_to_png(svg)
    svg_to_png.cache_clear()
    assert svg_to_png(svg) == png
    width, height = svg_size(svg)
    image = Image.open(io.BytesIO(png))
    assert image.size == (round(width * 2), round(height * 2))
    low, high = image.convert("L").getextrema()
    assert high - low > 100  # something is drawn
