"""The codebook: the built-in framework, versions, merge/split/move/rename, CSV and .qdc."""

import pytest
import xmlschema

from triangulum.casework import actions, queries
from triangulum.casework.actions import CaseworkError, SplitPart
from triangulum.casework.codebook.csvio import read_codebook_csv, write_codebook_csv
from triangulum.casework.codebook.framework import builtin_framework
from triangulum.casework.codebook.qdc import (
    codebook_qdc_bytes,
    description_of,
    fields_of,
    read_codebook_qdc,
    read_codebook_qdc_bytes,
)
from triangulum.casework.codebook.records import CodebookFileError, CodeRecord
from triangulum.casework.models import Code, CodebookVersion, Coding
from triangulum.casework.tests import core_fixtures
from triangulum.testing import shared_path

pytestmark = pytest.mark.django_db

team = core_fixtures.team


# --- the built-in framework -------------------------------------------------------------


def test_builtin_framework_has_the_rq_structure_and_complete_codes():
    _, records = builtin_framework()
    tops = [r.path for r in records if "/" not in r.path]
    assert tops[:4] == ["RQ1 Modes", "RQ2 Scope", "RQ3 Benefits", "RQ4 Enablers and blockers"]
    assert "Existing or new arrangements" in tops and "Emerging themes" in tops
    children = {r.path for r in records if "/" in r.path}
    for expected in (
        "RQ1 Modes/Formal roles",
        "RQ1 Modes/Clinical networks and senates",
        "RQ2 Scope/Social care and local authority",
        "RQ2 Scope/Health and Wellbeing Board",
        "RQ3 Benefits/Integration across boundaries",
        "RQ4 Enablers and blockers/Conflicts of interest",
        "RQ4 Enablers and blockers/Data and IT",
        "Existing or new arrangements/Built on existing clusters and networks",
        "Emerging themes/Collaborative leadership style",
        "Emerging themes/Leadership at every level",
        "Emerging themes/Clinician–manager alliance",
    ):
        assert expected in children
    for record in records:
        assert record.definition and record.inclusion and record.exclusion and record.example
        assert record.colour.startswith("#") and record.rq
        if record.path.startswith("RQ"):
            assert int(record.path[2]) in record.rq


def test_install_builtin_codebook_is_idempotent_and_keeps_refinements(team):
    study, users = team
    first = actions.install_builtin_codebook(study=study, actor=users["lead"])
    _, records = builtin_framework()
    assert Code.objects.filter(study=study).count() == len(records)
    formal = Code.objects.get(study=study, name="Formal roles")
    assert formal.parent.name == "RQ1 Modes"
    assert list(formal.research_questions.values_list("number", flat=True)) == [1]
    assert actions.install_builtin_codebook(study=study, actor=users["lead"]) == first
    actions.update_code(code=formal, actor=users["lead"], definition="Our refined definition.")
    actions.install_builtin_codebook(study=study, actor=users["lead"])
    formal.refresh_from_db()
    assert formal.definition == "Our refined definition."
    assert Code.objects.filter(study=study).count() == len(records)


# --- versions and restructuring ---------------------------------------------------------


@pytest.fixture
def tree(team):
    study, users = team
    lead = users["lead"]
    top = actions.create_code(study=study, name="Barriers", actor=lead, research_questions=["RQ4"])
    money = actions.create_code(study=study, name="Money", actor=lead, parent=top)
    cash = actions.create_code(study=study, name="Cash", actor=lead, parent=top)
    source = actions.create_source_from_text(
        study=study, title="S", kind="interview", actor=lead,
        text="I: What held you back?\nR: The deficit. Then the deficit again.\nI: And?\nR: Time.",
    )  # fmt: skip
    return study, users, top, money, cash, source


def test_every_change_records_a_version_with_a_snapshot(tree):
    study, users, top, money, cash, source = tree
    numbers = list(CodebookVersion.objects.filter(study=study).values_list("number", flat=True))
    assert numbers == [1, 2, 3]
    actions.rename_code(code=money, name="Finance", actor=users["lead"])
    latest = actions.current_codebook_version(study)
    assert latest.number == 4 and latest.note == 'renamed "Money" to "Finance"'
    paths = [entry["path"] for entry in latest.snapshot]
    assert paths == ["Barriers", "Barriers/Finance", "Barriers/Cash"]
    assert latest.snapshot[0]["rq"] == [4]
    # The older version still says what the codebook was.
    assert [e["name"] for e in CodebookVersion.objects.get(number=3).snapshot] == [
        "Barriers",
        "Money",
        "Cash",
    ]
    # An edit that changes nothing records nothing.
    actions.update_code(code=money, actor=users["lead"], name="Finance")
    assert actions.current_codebook_version(study).number == 4


def test_rename_refuses_a_sibling_name_and_slashes(tree):
    _, users, _, money, cash, _ = tree
    with pytest.raises(CaseworkError, match='already a code "cash" under "Barriers"'):
        actions.rename_code(code=money, name="cash", actor=users["lead"])
    with pytest.raises(CaseworkError, match='contains "/"'):
        actions.rename_code(code=money, name="Money/cash", actor=users["lead"])


def test_move_carries_codings_and_refuses_cycles(tree):
    study, users, top, money, cash, source = tree
    coding = actions.apply_coding(source=source, code=money, start=26, end=37, coder=users["coder"])
    actions.move_code(code=money, parent=None, actor=users["lead"])
    money.refresh_from_db()
    assert money.parent is None
    assert [s.coding_id for s in queries.segments_for_code(study, money)] == [coding.id]
    assert queries.segments_for_code(study, top) == []
    actions.move_code(code=money, parent=top, actor=users["lead"])
    with pytest.raises(CaseworkError, match='is "Barriers" itself or one of its sub-codes'):
        actions.move_code(code=top, parent=money, actor=users["lead"])
    with pytest.raises(CaseworkError, match="itself or one of its sub-codes"):
        actions.move_code(code=top, parent=top, actor=users["lead"])
    assert "moved" in actions.current_codebook_version(study).note


def test_merge_moves_codings_and_deactivates(tree):
    study, users, top, money, cash, source = tree
    a = actions.apply_coding(source=source, code=money, start=26, end=37, coder=users["coder"])
    b = actions.apply_coding(source=source, code=cash, start=26, end=37, coder=users["coder"])
    c = actions.apply_coding(source=source, code=cash, start=39, end=60, coder=users["coder"])
    actions.merge_codes(source_code=cash, target_code=money, actor=users["lead"])
    cash.refresh_from_db()
    assert not cash.is_active
    # The duplicate (same coder, same span, both codes) is kept once.
    assert sorted(Coding.objects.filter(code=money).values_list("id", flat=True)) == [a.id, c.id]
    assert not Coding.objects.filter(pk=b.pk).exists()
    with pytest.raises(CaseworkError, match="merged or retired"):
        actions.apply_coding(source=source, code=cash, start=0, end=3, coder=users["coder"])
    with pytest.raises(CaseworkError, match="into its own sub-code"):
        actions.merge_codes(source_code=top, target_code=money, actor=users["lead"])
    assert actions.current_codebook_version(study).note == 'merged "Cash" into "Money"'


def test_split_by_ids_and_by_rule(tree):
    study, users, top, money, cash, source = tree
    codings = [
        actions.apply_coding(source=source, code=money, start=s, end=e, coder=users["coder"])
        for s, e in [(26, 37), (39, 60), (72, 77)]
    ]
    deficit, other = actions.split_code(
        code=money,
        parts=[
            SplitPart("Deficit", rule=lambda segment: "deficit" in segment.text),
            SplitPart("Other money", coding_ids=(codings[2].id,)),
        ],
        actor=users["lead"],
        retire=True,
    )
    assert deficit.parent == money and other.parent == money
    assert sorted(Coding.objects.filter(code=deficit).values_list("id", flat=True)) == [
        codings[0].id,
        codings[1].id,
    ]
    assert list(Coding.objects.filter(code=other).values_list("id", flat=True)) == [codings[2].id]
    money.refresh_from_db()
    assert not money.is_active
    assert actions.current_codebook_version(study).note.startswith('split "Money" into')


def test_split_refuses_foreign_codings_and_unclaimed_ones_when_retiring(tree):
    study, users, top, money, cash, source = tree
    mine = actions.apply_coding(source=source, code=money, start=26, end=37, coder=users["coder"])
    theirs = actions.apply_coding(source=source, code=cash, start=26, end=37, coder=users["coder"])
    with pytest.raises(CaseworkError, match='are not codings of "Money"'):
        actions.split_code(
            code=money, parts=[SplitPart("X", coding_ids=(theirs.id,))], actor=users["lead"]
        )
    with pytest.raises(CaseworkError, match="would be left on a retired code"):
        actions.split_code(code=money, parts=[SplitPart("X")], actor=users["lead"], retire=True)
    assert Coding.objects.get(pk=mine.pk).code == money
    assert not Code.objects.filter(name="X").exists()


# --- CSV --------------------------------------------------------------------------------


def test_csv_round_trip_of_the_builtin_framework(team):
    study, users = team
    actions.install_builtin_codebook(study=study, actor=users["lead"])
    text = actions_export_csv(study)
    records = read_codebook_csv(text.encode(), "out.csv")
    _, builtin = builtin_framework()
    assert records == list(builtin)


def actions_export_csv(study):
    return write_codebook_csv(queries.codebook_records(study))


def test_csv_import_creates_and_updates_with_one_version(team):
    study, users = team
    lead = users["lead"]
    actions.create_code(study=study, name="Modes", actor=lead)
    csv_text = (
        "path,name,definition,inclusion,exclusion,example,colour,rq\r\n"
        'Modes,Modes,"Ways of taking part, all kinds",,,,#123456,RQ1\r\n'
        "Modes/Formal roles,Formal roles,Posts,,,,,RQ1; RQ2\r\n"
    )
    before = actions.current_codebook_version(study).number
    result = actions.import_codebook(
        study=study, records=read_codebook_csv(csv_text.encode()), actor=lead, note="csv"
    )
    assert (result.created, result.updated, result.version.number) == (1, 1, before + 1)
    modes = Code.objects.get(name="Modes")
    assert modes.definition == "Ways of taking part, all kinds" and modes.colour == "#123456"
    formal = Code.objects.get(name="Formal roles")
    assert formal.parent == modes
    assert sorted(formal.research_questions.values_list("number", flat=True)) == [1, 2]


@pytest.mark.parametrize(
    "body,message",
    [
        ("path,colour\r\nA,red\r\n", r"x\.csv, row 2, column colour: \"red\" is not a colour"),
        ("path,rq\r\nA,RQ1\r\nA/B,question 2\r\n", r"x\.csv, row 3, column rq: \"question"),
        ("path\r\nA\r\nB/C\r\n", r"x\.csv, row 3, column path: the parent \"B\" of \"C\" must"),
        (
            "path\r\nA\r\na\r\n",
            r"x\.csv, row 3, column path: code \"a\" appears twice \(first in row 2\)",
        ),
        ("path,name\r\nA/B,C\r\n", r"x\.csv, row 2, column name: name \"C\" differs"),
        ("path,shape\r\nA,round\r\n", r"x\.csv, row 1: unknown column\(s\) shape"),
        ("name\r\nA\r\n", r"x\.csv, row 1: no path column"),
    ],
)
def test_csv_errors_name_row_and_column(body, message):
    with pytest.raises(CodebookFileError, match=message):
        read_codebook_csv(body.encode(), "x.csv")


def test_csv_import_refuses_unknown_research_questions_and_stores_nothing(team):
    study, users = team
    records = read_codebook_csv(b"path,rq\r\nA,RQ1\r\nB,RQ9\r\n", "x.csv")
    with pytest.raises(CodebookFileError, match=r"x\.csv, row 3, column rq: RQ9 is not"):
        actions.import_codebook(
            study=study, records=records, actor=users["lead"], note="x", file_name="x.csv"
        )
    assert not Code.objects.exists()


# --- REFI .qdc --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def codebook_schema():
    return xmlschema.XMLSchema(
        str(shared_path("fixtures", "refi_qda", "openqda_refi-tools", "Codebook.xsd"))
    )


def test_description_carries_every_field_and_reads_back():
    record = CodeRecord(
        path="A/B", definition="What it is.\n\nTwo paragraphs.", inclusion="In.",
        exclusion="Out.", example="“Quote.”", rq=(1, 3),
    )  # fmt: skip
    text = description_of(record)
    assert "Inclusion: In." in text and "Research questions: RQ1; RQ3" in text
    assert fields_of(text) == {
        "definition": "What it is.\n\nTwo paragraphs.",
        "inclusion": "In.",
        "exclusion": "Out.",
        "example": "“Quote.”",
        "rq": (1, 3),
    }
    assert fields_of("Someone else's description.")["definition"] == "Someone else's description."


def test_qdc_export_is_valid_and_round_trips(team, tmp_path, codebook_schema):
    study, users = team
    actions.install_builtin_codebook(study=study, actor=users["lead"])
    records = queries.codebook_records(study)
    path = tmp_path / "ccg.qdc"
    path.write_bytes(codebook_qdc_bytes(records, name="CCG"))
    codebook_schema.validate(str(path))
    read, deviations = read_codebook_qdc(path)
    assert deviations == []
    assert read == records
    assert [r.guid for r in read] == [r.guid for r in records]


def test_qdc_import_of_a_real_codebook(team):
    study, users = team
    path = shared_path("fixtures", "refi_qda", "openqda_refi-tools", "example_codebook.qdc")
    records, _ = read_codebook_qdc(path)
    result = actions.import_codebook(study=study, records=records, actor=users["lead"], note="qdc")
    assert result.created == 44
    tops = Code.objects.filter(study=study, parent=None)
    assert tops.count() == 4
    assert all(code.colour for code in Code.objects.filter(study=study))
    # Importing again changes nothing.
    again = actions.import_codebook(study=study, records=records, actor=users["lead"], note="qdc")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 44)


def test_a_broken_qdc_is_refused_with_line_and_column():
    path = shared_path("fixtures", "refi_qda", "openqda_refi-tools", "example_codebook_defect.qdc")
    with pytest.raises(CodebookFileError, match=r"example_codebook_defect\.qdc: .*line 132"):
        read_codebook_qdc_bytes(path.read_bytes(), path.name)
