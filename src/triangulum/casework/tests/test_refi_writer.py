"""Writing .qdpx/.qdc: valid against the REFI-QDA schemas, deterministic, and lossless."""

import dataclasses
import datetime as dt
import hashlib
import io
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from triangulum.casework.refi import (
    Case,
    Code,
    Coding,
    ExportError,
    Note,
    Project,
    Set,
    TextSelection,
    TextSource,
    User,
    Variable,
    VariableValue,
    codebook_xml,
    qdpx_bytes,
    read_refi,
    write_qdpx,
)
from triangulum.testing import shared_path

UTC = dt.UTC


def guid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def project_schema():
    return xmlschema.XMLSchema(
        str(shared_path("fixtures", "refi_qda", "openqda_refi-tools", "Project.xsd"))
    )


@pytest.fixture(scope="module")
def codebook_schema():
    return xmlschema.XMLSchema(
        str(shared_path("fixtures", "refi_qda", "openqda_refi-tools", "Codebook.xsd"))
    )


def rich_project() -> Project:
    """A project using every part of the exchange model (simulated content)."""
    ana, ben = User(guid(1), "Ana (simulated)", "AK"), User(guid(2), "Ben (simulated)")
    diet = Code(guid(12), "Diet", colour="#dc0000", description="Food and eating.")
    access = Code(guid(13), "Access to GP", note_refs=(guid(71),))
    health = Code(
        guid(11), "Health", colour="#33cc33", description="Physical or mental health.",
        children=(diet, access),
    )  # fmt: skip
    topics = Code(guid(10), "Topics", is_codable=False, children=(health,))
    other = Code(guid(14), "Other")
    text_one = "Interview 1 (simulated)\nI felt 😀 about the diet.\nCafé visits were rare.\n"
    text_two = "Field notes (simulated): the practice 👩‍⚕️ nurse said naïve things."
    when = dt.datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    diet_at = text_one.index("diet")
    selections = (
        TextSelection(
            guid(31),
            diet_at - 10,
            diet_at + 4,
            name="about the diet",
            creating_user=ana.guid,
            created=when,
            codings=(
                Coding(guid(41), diet.guid, ana.guid, when),
                Coding(guid(42), diet.guid, ben.guid, when + dt.timedelta(minutes=5)),
            ),
            note_refs=(guid(70),),
        ),
        # Overlaps the first selection.
        TextSelection(
            guid(32),
            text_one.index("😀"),
            text_one.index("Café") + 4,
            description="overlap",
            codings=(Coding(guid(43), health.guid, ben.guid, note_refs=(guid(71),)),),
        ),
        TextSelection(guid(33), 0, 0, name="zero-length"),
    )
    variables = (
        Variable(guid(51), "Site", "Text", description="Practice pseudonym"),
        Variable(guid(52), "Consented", "Boolean"),
        Variable(guid(53), "Age", "Integer"),
        Variable(guid(54), "List size (thousands)", "Float"),
        Variable(guid(55), "Interview date", "Date"),
        Variable(guid(56), "Recorded at", "DateTime"),
    )
    sources = (
        TextSource(
            guid(21), "Interview 1", text_one, description="Simulated interview",
            creating_user=ana.guid, created=when, modifying_user=ben.guid,
            modified=when + dt.timedelta(days=1), selections=selections,
            codings=(Coding(guid(44), other.guid, ana.guid),), note_refs=(guid(70),),
            variable_values=(VariableValue(guid(51), "Site A"),),
        ),
        TextSource(
            guid(22), "Field notes", text_two,
            selections=(
                TextSelection(
                    guid(34), text_two.index("👩"), text_two.index(" nurse"),
                    codings=(Coding(guid(45), access.guid, ben.guid),),
                ),
            ),
        ),
    )  # fmt: skip
    cases = (
        Case(
            guid(61), "Practice A (simulated)", description="A simulated site",
            code_refs=(health.guid,),
            variable_values=(
                VariableValue(guid(51), "Site A"),
                VariableValue(guid(52), True),
                VariableValue(guid(53), 47),
                VariableValue(guid(54), Decimal("12.5")),
                VariableValue(guid(55), dt.date(2025, 3, 4)),
                VariableValue(guid(56), when),
            ),
            source_refs=(guid(21), guid(22)),
            selection_refs=(guid(31),),
        ),
        Case(guid(62), "Practice B (simulated)", variable_values=(VariableValue(guid(53), None),)),
    )  # fmt: skip
    notes = (
        Note(guid(70), "Memo on diet", "Diet comes up with every coder.", ana.guid, when),
        Note(guid(71), "Access memo", "Ask about booking systems."),
    )
    sets = (
        Set(guid(81), "Health codes", "Codes about health", member_codes=(health.guid, diet.guid)),
        Set(guid(82), "Everything", member_sources=(guid(21),), member_notes=(guid(70),)),
    )
    return Project(
        name="Round trip (simulated)", origin="Triangulum", description="Simulated data.",
        creating_user=ana.guid, created=when, modifying_user=ben.guid, modified=when,
        users=(ana, ben), codes=(topics, other), variables=variables, cases=cases,
        sources=sources, notes=notes, sets=sets, note_refs=(guid(71),),
    )  # fmt: skip


def test_written_project_validates_against_project_xsd(tmp_path, project_schema):
    path = write_qdpx(rich_project(), tmp_path / "out.qdpx")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        project_schema.validate(io.BytesIO(archive.read("project.qde")))
    assert names == ["project.qde", f"sources/{guid(21)}.txt", f"sources/{guid(22)}.txt"]


def test_read_of_written_project_equals_the_project(tmp_path):
    project = rich_project()
    again = read_refi(write_qdpx(project, tmp_path / "out.qdpx"))
    assert again == project
    assert again.deviations == ()
    text = again.sources[0].text
    first = again.sources[0].selections[0]
    assert text[first.start : first.end] == "about the diet"


def test_same_project_exports_byte_identically(tmp_path):
    first = qdpx_bytes(rich_project())
    write_qdpx(rich_project(), tmp_path / "later.qdpx")
    assert (
        hashlib.sha256(first).digest()
        == hashlib.sha256((tmp_path / "later.qdpx").read_bytes()).digest()
    )
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_hand_authored_project_text_part_survives_a_round_trip(tmp_path, project_schema):
    read = read_refi(
        shared_path("fixtures", "refi_qda", "ornio_qdpx-toolkit", "hand_authored", "project.qde")
    )
    with pytest.raises(ExportError, match="non-text source"):
        qdpx_bytes(read)
    text_only = dataclasses.replace(read, other_sources=())
    path = write_qdpx(text_only, tmp_path / "hand.qdpx")
    with zipfile.ZipFile(path) as archive:
        project_schema.validate(io.BytesIO(archive.read("project.qde")))
    assert read_refi(path) == text_only


def test_project_with_missing_texts_is_not_exported():
    maxqda = read_refi(shared_path("fixtures", "refi_qda", "bedingjd_paper_themes", "project.qde"))
    with pytest.raises(ExportError) as caught:
        qdpx_bytes(maxqda)
    assert str(caught.value).count("has no text") == 10
    assert "'ICLS 2024 3-10'" in str(caught.value)


def test_export_refuses_what_would_be_invalid():
    project = rich_project()
    source = project.sources[0]
    bad = dataclasses.replace(
        project,
        sources=(
            dataclasses.replace(
                source,
                text="crlf\r\ntext",
                selections=(TextSelection(guid(99), 0, 500),),
            ),
        ),
        users=(*project.users, User("not-a-guid", "Bell\x07")),
    )
    message = str(pytest.raises(ExportError, qdpx_bytes, bad).value)
    assert "'not-a-guid' is not a lower-case GUID" in message
    assert "not canonical" in message
    assert "User 'Bell\\x07' name: holds U+0007, which XML cannot carry" in message
    assert "selection [0, 500) is outside its text" in message


def test_codebook_is_written_valid_against_codebook_xsd_and_reads_back(tmp_path, codebook_schema):
    source = read_refi(
        shared_path("fixtures", "refi_qda", "re-qda_requal", "atlasti_23_codebook_valid.qdc")
    )
    path = tmp_path / "atlasti_23_codebook_valid.qdc"
    path.write_bytes(codebook_xml(source))
    codebook_schema.validate(str(path))
    again = read_refi(path)
    assert again == source
    assert again.deviations == ()  # the schemaLocation quirk is gone


def test_maxqda_codebook_exports_as_a_valid_codebook(tmp_path, codebook_schema):
    maxqda = read_refi(shared_path("fixtures", "refi_qda", "bedingjd_paper_themes", "project.qde"))
    path = tmp_path / "project.qdc"
    path.write_bytes(codebook_xml(maxqda))
    codebook_schema.validate(str(path))
    assert list(read_refi(path).all_codes()) == list(maxqda.all_codes())


_text_pieces = st.sampled_from(["a", "b ", "é", "😀", "👩\u200d⚕️", "\n", "ñ", "𝄞", "z"])


@st.composite
def projects(draw):
    text = "".join(draw(st.lists(_text_pieces, min_size=1, max_size=40)))
    xml_safe = st.characters(blacklist_categories=("Cs", "Cc"))
    code = Code(guid(1), draw(st.text(xml_safe, min_size=1, max_size=10)))
    selections = []
    for n in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        selections.append(
            TextSelection(guid(100 + n), start, end, codings=(Coding(guid(200 + n), code.guid),))
        )
    source = TextSource(guid(2), "source", text, selections=tuple(selections))
    return Project(name="generated (simulated)", codes=(code,), sources=(source,))


@given(projects())
@settings(max_examples=40, deadline=None)
def test_round_trip_keeps_every_selection_on_the_same_characters(project):
    with tempfile.TemporaryDirectory() as folder:
        again = read_refi(write_qdpx(project, Path(folder) / "generated.qdpx"))
    assert again == project
    for before, after in zip(
        project.sources[0].selections, again.sources[0].selections, strict=True
    ):
        text = project.sources[0].text
        assert again.sources[0].text[after.start : after.end] == text[before.start : before.end]
