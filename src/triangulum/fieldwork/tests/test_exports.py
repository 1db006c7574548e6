"""Exports read back: SPSS and Stata labels, wide and long CSV, dictionary, paradata."""

import csv
import io
import tempfile
from pathlib import Path

import pyreadstat
import pytest

from triangulum.fieldwork import actions, exports


@pytest.fixture
def answered(respondents, users):
    case = respondents["Ada Chair"]
    for path, value in [
        ("clinical_lead", "yes"),
        ("lead_area", "Diabetes"),
        ("years_on_board", "4"),
        ("topics", "finance workforce"),
        ("influence", "2"),
    ]:
        actions.save_answer(
            actor=users["ivan"], interview=case, path=f"/data/{path}", value=value, mode="telephone"
        )
    return case


def _read(kind, wave):
    content, _ = exports.build(wave, kind)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x.{kind}"
        path.write_bytes(content)
        reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
        return reader(str(path))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["sav", "dta"])
def test_statistical_files_carry_variable_and_value_labels(answered, wave, kind):
    frame, meta = _read(kind, wave)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["influence"].startswith("Clinicians have real influence")
    value_labels = meta.variable_value_labels
    assert value_labels["influence"][2.0] == "Disagree"
    assert value_labels["clinical_lead"] == {1.0: "Yes", 2.0: "No"}
    row = frame[frame["pseudonym"] == answered.participant.pseudonym].iloc[0]
    assert row["influence"] == 2 and row["clinical_lead"] == 1
    assert row["topics_finance"] == 1 and row["topics_quality"] == 0
    assert row["years_on_board"] == 4 and row["lead_area"] == "Diabetes"
    assert len(frame) == 3


@pytest.mark.django_db
def test_csv_exports(answered, wave):
    wide = list(
        csv.DictReader(io.StringIO(exports.build(wave, "wide-labels")[0].decode("utf-8-sig")))
    )
    ada = next(r for r in wide if r["pseudonym"] == answered.participant.pseudonym)
    assert ada["topics"] == "Finance and savings; Workforce" and ada["influence"] == "Disagree"
    assert "full_name" not in ada and "phone" not in ada
    long = list(csv.DictReader(io.StringIO(exports.build(wave, "long")[0].decode("utf-8-sig"))))
    assert {r["variable"] for r in long} == {
        "clinical_lead",
        "lead_area",
        "years_on_board",
        "topics",
        "influence",
    }
    assert all(r["instrument_version"] == "1" for r in long)
    dictionary = exports.build(wave, "dictionary")[0].decode("utf-8-sig")
    assert "1=Strongly disagree" in dictionary and "${clinical_lead} = 'yes'" in dictionary
    paradata = exports.build(wave, "paradata")[0].decode("utf-8-sig")
    assert paradata.splitlines()[0].startswith("interview_id,pseudonym")
