"""`triangulum agreement FILE.csv`: the reference values through the command line."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from triangulum.casework.tests.test_agreement import (
    KRIPPENDORFF_2011,
    KRIPPENDORFF_2011_ALPHA,
    WIKIPEDIA_3X15,
    WIKIPEDIA_3X15_ALPHA,
    cohen_reference_labels,
)


def cell(value):
    return "." if value is None else str(value)


def write_rows(path: Path, rows, names=None, header=None) -> Path:
    lines = []
    if header:
        lines.append(",".join(header))
    for n, row in enumerate(rows):
        cells = [cell(v) for v in row]
        lines.append(",".join(([names[n]] if names else []) + cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def agreement_json(*args) -> dict:
    out = StringIO()
    call_command("agreement", *map(str, args), "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("level, expected", KRIPPENDORFF_2011_ALPHA.items())
def test_krippendorff_2011_example_with_names_and_dots(tmp_path, level, expected):
    # The layout of the source: observer names first, '.' for missing.
    path = write_rows(tmp_path / "k2011.csv", KRIPPENDORFF_2011, names="ABCD")
    result = agreement_json(path, "--level", level)
    assert round(result["alpha"], 3) == expected
    assert result["level"] == level
    assert result["coders"] == 4 and result["units"] == 12
    assert result["cohen_kappa"] is None  # four coders
    assert result["fleiss_kappa"] is None  # values are missing


@pytest.mark.parametrize("level, expected", WIKIPEDIA_3X15_ALPHA.items())
def test_wikipedia_example_with_header_and_empty_cells(tmp_path, level, expected):
    path = tmp_path / "wiki.csv"
    header = "coder," + ",".join(f"unit {n}" for n in range(1, 16))
    body = [
        name + "," + ",".join("" if v is None else str(v) for v in row)
        for name, row in zip("ABC", WIKIPEDIA_3X15, strict=True)
    ]
    path.write_text("\ufeff" + "\n".join([header, *body]) + "\n", encoding="utf-8")
    result = agreement_json(path, "--level", level)
    assert round(result["alpha"], 6) == expected
    assert result["coders"] == 3 and result["units"] == 15


def test_two_coders_get_cohen_and_fleiss_kappa(tmp_path):
    a, b = cohen_reference_labels()
    path = write_rows(tmp_path / "two.csv", [a, b], names=["Ann", "Bo"])
    result = agreement_json(path, "--names")
    assert round(result["cohen_kappa"], 2) == 0.40
    # Two coders, nothing missing: Fleiss' kappa reduces to Scott's pi, slightly below.
    assert 0.39 < result["fleiss_kappa"] < 0.40
    assert result["alpha"] is not None


def test_rows_without_names_or_header(tmp_path):
    path = write_rows(tmp_path / "bare.csv", KRIPPENDORFF_2011)
    assert round(agreement_json(path, "--level", "interval")["alpha"], 3) == 0.849


def test_readable_output(tmp_path):
    a, b = cohen_reference_labels()
    path = write_rows(tmp_path / "two.csv", [a, b], names=["Ann", "Bo"], header=None)
    out = StringIO()
    call_command("agreement", str(path), "--names", stdout=out)
    text = out.getvalue()
    assert "2 coders (Ann, Bo), 50 units" in text
    assert "Cohen's kappa (unweighted): 0.4000 over 50 units both coded" in text
    assert "observed agreement 0.7000, chance 0.5000" in text
    assert "Krippendorff's alpha (nominal): " in text


def test_text_in_a_numeric_level_names_file_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("coder,u1,u2,u3\nA,1,2,3\nB,1,two,3\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("agreement", str(path), "--level", "interval", stdout=StringIO())
    assert str(caught.value).startswith(f'{path}, row 3, column 3 ("u2"): "two" is not a number')


def test_duplicate_coder_and_single_coder_are_refused(tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("coder,u1,u2\nA,1,2\nA,1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r'row 3, column 1: coder "A" already appears on row 2'):
        call_command("agreement", str(twice), stdout=StringIO())
    alone = tmp_path / "alone.csv"
    alone.write_text("coder,u1,u2\nA,1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="at least two coders"):
        call_command("agreement", str(alone), stdout=StringIO())


def test_command_line_help_documents_the_layout_and_errors_exit_non_zero(tmp_path):
    triangulum = Path(sys.executable).parent / "triangulum"
    env = {**os.environ, "TRIANGULUM_DIR": str(tmp_path / "study")}
    shown = subprocess.run(
        [triangulum, "agreement", "--help"], capture_output=True, text=True, env=env
    )
    assert shown.returncode == 0
    assert "one row per coder, one column per unit" in shown.stdout
    missing = subprocess.run(
        [triangulum, "agreement", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode != 0
    assert "nope.csv: no such file" in missing.stderr


def test_layout_detection_of_unit_labels_and_coder_names(tmp_path):
    # Unit labels only, numbers below: a header row even at the nominal level.
    labels_only = tmp_path / "labels.csv"
    labels_only.write_text("u1,u2,u3\n1,2,3\n1,2,2\n", encoding="utf-8")
    assert agreement_json(labels_only)["coders"] == 2
    # Category words under a 'coder' header: names and labels are both recognised.
    words = tmp_path / "words.csv"
    words.write_text("Coder,u1,u2,u3,u4\nA,yes,no,yes,.\nB,yes,yes,yes,no\n", encoding="utf-8")
    result = agreement_json(words)
    assert (result["coders"], result["units"]) == (2, 4)
    # Over u1-u3: A yes,no,yes vs B yes,yes,yes → p_o 2/3, p_e 2/3, kappa 0.
    assert result["cohen_kappa"] == pytest.approx(0.0)
    # Saying --no-header makes the label row a third coder.
    assert agreement_json(labels_only, "--no-header")["coders"] == 3
