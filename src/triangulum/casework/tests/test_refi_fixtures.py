"""Real REFI-QDA files from ../shared/fixtures/refi_qda/ read into the exchange model.

Expected counts come from the files themselves, counted here independently of the reader
(a plain element count with defusedxml's ElementTree), or, where a number is written out,
from reading the file by hand as the comment says.
"""

import zipfile

import defusedxml.ElementTree as ET
import pytest

from triangulum.casework.refi import BrokenFileError, read_refi
from triangulum.testing import shared_path

pytestmark = pytest.mark.acceptance

READABLE = [
    "bedingjd_paper_themes/project.qde",
    "cproctor_qualitative-coding/nvivo_project.qdpx",
    "enricllagostera_ponte/blank-atlas-project.qdpx",
    "enricllagostera_ponte/target-atlas-project.qdpx",
    "openqda_refi-tools/example_codebook.qdc",
    "ornio_qdpx-toolkit/hand_authored/project.qde",
    "re-qda_requal/atlasti_23_codebook_valid.qdc",
]
BROKEN = {
    # Line and column as an editor shows them: expat reports column 14, counting from 0.
    "openqda_refi-tools/example_codebook_defect.qdc": (132, 15, "mismatched tag"),
    "re-qda_requal/atlasti_23_codebook_truncated.qdc": (17, 5, "unclosed token"),
}


def fixture(name):
    return shared_path("fixtures", "refi_qda", *name.split("/"))


def xml_root(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            (inner,) = [n for n in archive.namelist() if n.endswith(".qde")]
            return ET.fromstring(archive.read(inner))
    return ET.parse(path).getroot()


def count(root, *tags):
    return sum(len(root.findall(f".//{{*}}{tag}")) for tag in tags)


def test_every_fixture_is_either_readable_or_known_broken():
    folder = shared_path("fixtures", "refi_qda")
    found = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.suffix in {".qdpx", ".qde", ".qdc"}
    }
    assert found == set(READABLE) | set(BROKEN)


@pytest.mark.parametrize("name", READABLE)
def test_counts_match_the_elements_in_the_file(name):
    path = fixture(name)
    root = xml_root(path)
    counts = read_refi(path).counts()
    selections = (
        "PlainTextSelection", "PictureSelection", "PDFSelection", "AudioSelection",
        "VideoSelection", "TranscriptSelection",
    )  # fmt: skip
    sources = ("TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource")
    assert counts["users"] == count(root, "User")
    assert counts["codes"] == count(root, "Code")
    assert counts["sources"] == count(root, *sources)
    assert counts["selections"] == count(root, *selections)
    assert counts["codings"] == count(root, "Coding")
    assert counts["cases"] == count(root, "Case")
    assert counts["variables"] == count(root, "Variable")
    assert counts["notes"] == count(root, "Note")
    assert counts["sets"] == count(root, "Set")


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_codebooks_are_refused_with_line_and_column(name):
    line, column, reason = BROKEN[name]
    with pytest.raises(BrokenFileError) as caught:
        read_refi(fixture(name))
    file_name = name.rsplit("/", 1)[1]
    assert str(caught.value).startswith(f"{file_name}, line {line}, column {column}: ")
    assert reason in str(caught.value)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_maxqda_project_reads_its_codebook_and_sets_and_reports_ten_missing_texts():
    project = read_refi(fixture("bedingjd_paper_themes/project.qde"))
    assert project.origin == "MAXQDA 24 (Release 24.7.0)"
    codes = list(project.all_codes())
    assert len(codes) == 307  # MANIFEST's figure; equal to `grep -c '<Code '` on the file
    assert all(code.description for code in codes)
    assert max(_depth(code) for code in project.codes) == 2  # two levels, per MANIFEST
    assert codes[0].name == "Additional Themes and Ideas" and codes[0].colour == "#ef8256"
    assert [s.name for s in project.sets] == ["ICLS 2024", "ICLS 2025"]
    assert [len(s.member_sources) for s in project.sets] == [5, 5]
    source_guids = {s.guid for s in project.sources}
    assert all(g in source_guids for s in project.sets for g in s.member_sources)
    missing = [d for d in project.deviations if d.kind == "missing"]
    assert len(missing) == 10 and len(project.missing_sources()) == 10
    assert missing[0].location == "project.qde, line 934, column 3"
    assert "ICLS 2024 3-10" in missing[0].message and "no sources/ folder" in missing[0].message
    # Attribute order (schemaLocation before xmlns) is no deviation: XML ignores it.
    assert [d for d in project.deviations if d.kind == "nonstandard"] == []


def _depth(code):
    return 1 + max((_depth(child) for child in code.children), default=0)


def test_nvivo_export_nested_codes_two_users_and_empty_plain_texts():
    project = read_refi(fixture("cproctor_qualitative-coding/nvivo_project.qdpx"))
    assert project.origin == "NVivo for Mac 15.0.0"
    assert [u.name for u in project.users] == ["chrisp", "cp"]
    assert [u.id for u in project.users] == ["CP", "C"]
    # MANIFEST says "~60 codes"; the file holds 262 Code elements in a tree of this shape.
    assert sum(1 for _ in project.all_codes()) == 262
    assert project.codes[0].name == "rq1_definition"
    assert max(_depth(code) for code in project.codes) >= 4
    assert [s.text for s in project.sources] == ["\n", "\n"]
    assert project.missing_sources() == ()
    not_imported = [d for d in project.deviations if d.kind == "not_imported"]
    assert len(not_imported) == 2 and all(".docx" in d.message for d in not_imported)


def test_atlas_ti_exports_read_users_and_code_tree():
    blank = read_refi(fixture("enricllagostera_ponte/blank-atlas-project.qdpx"))
    assert blank.origin == "ATLAS.ti for Windows 23.2.3.27778"
    assert len(blank.users) == 2 and blank.codes == () and blank.deviations == ()
    target = read_refi(fixture("enricllagostera_ponte/target-atlas-project.qdpx"))
    (commits,) = target.codes
    assert commits.name == "Commits"
    assert commits.guid == "a182cd3a-d83c-4d8c-bc80-26d9103ec6d6"  # normalised to lower case
    assert [c.name for c in commits.children] == [
        "2022-05-10T02:05:59Z 19e4dce",
        "2022-02-11T10:39:25Z cdbfd92",
    ]
    assert target.modifying_user == target.creating_user == target.users[0].guid


def test_atlas_ti_codebook_with_set_and_schema_location_quirk():
    project = read_refi(fixture("re-qda_requal/atlasti_23_codebook_valid.qdc"))
    assert project.kind == "codebook"
    (code,) = project.codes
    assert (code.name, code.colour, code.description) == ("code1", "#46aa00", "description")
    (group,) = project.sets
    assert group.name == "code group 1" and group.description == "kategorie 1"
    assert group.member_codes == (code.guid,)
    (deviation,) = project.deviations
    assert deviation.location == "atlasti_23_codebook_valid.qdc, line 2, column 1"
    assert "urn:QDA-XML:codebook:0:4" in deviation.message


def test_codebook_with_non_guid_identifiers_is_read_and_every_identifier_reported():
    path = fixture("openqda_refi-tools/example_codebook.qdc")
    project = read_refi(path)
    codes = list(project.all_codes())
    assert len(project.codes) == 4 and len(codes) == 44
    assert sum(len(code.children) for code in project.codes) == 40  # "4 parents x 40 children"
    assert project.codes[0].name == "Negativ/Aufgeregt"
    assert project.codes[0].description == (
        "All emotions with negative valence and positive arousal."
    )
    assert len({code.guid for code in codes}) == 44
    reported = [d for d in project.deviations if "is not a GUID" in d.message]
    assert len(reported) == 44
    assert reported[0].location == "example_codebook.qdc, line 5, column 9"
    # The stand-in identifiers are stable across reads.
    assert [c.guid for c in read_refi(path).all_codes()] == [c.guid for c in codes]


def test_hand_authored_project_covers_every_element():
    project = read_refi(fixture("ornio_qdpx-toolkit/hand_authored/project.qde"))
    assert project.name == "Sample Study"
    (source,) = project.sources
    assert source.text == "Diet and health are closely linked in this interview."
    first, second = source.selections
    assert source.text[first.start : first.end] == "Diet and health"
    # Positions 9-23 as written; the selection's name ("health are closely") is longer.
    assert (second.start, second.end) == (9, 23)
    assert source.text[second.start : second.end] == "health are clo"
    assert first.codings[0].code_guid == "20000000-0000-0000-0000-000000000002"
    assert first.codings[0].creating_user == project.users[0].guid
    topics = project.codes[0]
    assert topics.is_codable is False
    assert [c.name for c in topics.children] == ["Health", "Wellbeing"]
    assert topics.children[0].children[0].name == "Diet"
    assert topics.children[0].colour == "#33cc33"
    (case,) = project.cases
    values = {v.variable_guid: v.value for v in case.variable_values}
    age, consented = project.variables
    assert (age.type, consented.type) == ("Integer", "Boolean")
    assert values == {age.guid: 34, consented.guid: True}
    assert case.source_refs == (source.guid,) and case.selection_refs == (first.guid,)
    (note,) = project.notes
    assert note.text == "Remember to follow up on diet-related comments."
    assert project.note_refs == (note.guid,)
    (diet_related,) = project.sets
    assert diet_related.member_codes == ("20000000-0000-0000-0000-000000000003",)
    assert diet_related.member_sources == (source.guid,)
    kinds = sorted(s.kind for s in project.other_sources)
    assert kinds == ["AudioSource", "PDFSource", "PictureSource", "VideoSource"]
    not_imported = [d.message for d in project.deviations if d.kind == "not_imported"]
    assert len(not_imported) == 6  # four non-text sources, the links, the graphs
    assert [d for d in project.deviations if d.kind != "not_imported"] == []
