"""The demo study's reports: each kind in each format, and a rebuild gives the same bytes.

The demo is built into the test database once for the module, its own reports step
included (the first build); the tests build again and compare.
"""

import io
import zipfile
from importlib.util import find_spec

import docx
import pypdf
import pytest

from triangulum.fieldwork.models import Answer
from triangulum.reports import actions, provenance
from triangulum.reports.document import REPORT_KINDS, SIMULATED_LABEL
from triangulum.reports.models import ReportBuild
from triangulum.reports.tests.checks import (
    blank_pages,
    docx_headers,
    docx_outline,
    external_references,
    unlabelled_pdf_pages,
)
from triangulum.testing import demo_in_test_database, require, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    shared_path("data", "nhs")
    require(
        find_spec("triangulum.reports.build") is not None,
        "reports/build.py (the report content) is not written yet",
    )
    folder = tmp_path_factory.mktemp("reports-demo")
    with demo_in_test_database(django_db_blocker, folder) as ctx:
        with django_db_blocker.unblock():
            yield ctx


def _files(demo) -> dict[tuple[str, str], bytes]:
    study = demo.shared["study"]
    return {
        (kind, fmt): (
            demo.outputs / "reports" / actions.report_filename(study, kind, fmt)
        ).read_bytes()
        for kind in REPORT_KINDS
        for fmt in actions.FORMATS
    }


def test_the_demo_writes_every_report_in_every_format(demo):
    study = demo.shared["study"]
    assert len(demo.shared["reports"]) == 9
    builds = ReportBuild.objects.filter(study=study)
    assert {(b.kind, b.format) for b in builds} == {
        (kind, fmt) for kind in REPORT_KINDS for fmt in actions.FORMATS
    }
    assert all(b.is_simulated and b.built_by_name == "triangulum demo" for b in builds)
    assert all(name.startswith("simulated_") for name in (b.filename for b in builds))


@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_word_file_has_headings_tables_and_the_label(demo, kind):
    data = _files(demo)[(kind, "docx")]
    outline = docx_outline(data)
    styles = {style for style, _ in outline}
    assert "Title" in styles and "Heading 1" in styles
    assert ("Heading 1", "Provenance") in outline
    document = docx.Document(io.BytesIO(data))
    assert document.tables, "no tables"
    for table in document.tables:
        assert all(cell.text for cell in table.rows[0].cells), "a header row without labels"
    assert docx_headers(data) == [SIMULATED_LABEL]


@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_pdf_pages_are_not_blank_and_each_is_labelled(demo, kind):
    data = _files(demo)[(kind, "pdf")]
    assert blank_pages(data) == []
    assert unlabelled_pdf_pages(data) == []


@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_html_is_self_contained(demo, kind):
    html = _files(demo)[(kind, "html")].decode("utf-8")
    assert external_references(html) == []
    assert SIMULATED_LABEL in html.split("<main>", 1)[0]  # the banner comes first


def test_building_again_gives_identical_bytes(demo, tmp_path):
    study = demo.shared["study"]
    first = _files(demo)
    paths = actions.write_reports(
        study=study,
        kinds=REPORT_KINDS,
        formats=actions.FORMATS,
        out_dir=tmp_path,
        actor="rebuild test",
    )
    assert len(paths) == 9
    for (kind, fmt), data in first.items():
        again = (tmp_path / actions.report_filename(study, kind, fmt)).read_bytes()
        assert again == data, f"{kind} {fmt} differs on a rebuild"
    demo_builds = ReportBuild.objects.filter(study=study, built_by_name="triangulum demo")
    rebuilds = ReportBuild.objects.filter(study=study, built_by_name="rebuild test")
    key = lambda b: (b.kind, b.format, b.inputs_hash, b.output_sha256)  # noqa: E731
    assert sorted(map(key, demo_builds)) == sorted(map(key, rebuilds))


def test_docx_zip_and_pdf_carry_no_build_time(demo):
    files = _files(demo)
    for kind in REPORT_KINDS:
        archive = zipfile.ZipFile(io.BytesIO(files[(kind, "docx")]))
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        metadata = pypdf.PdfReader(io.BytesIO(files[(kind, "pdf")])).metadata
        assert metadata["/CreationDate"] == metadata["/ModDate"] == "D:20000101000000Z"


def test_study_provenance_follows_the_stored_answers(demo):
    study = demo.shared["study"]
    before = provenance.study_provenance(study)
    assert before == provenance.study_provenance(study)
    labels = [label for label, _ in before.items]
    assert labels[0] == provenance.SNAPSHOT_LABEL
    for expected in ("Code version", "Survey wave 1: answers", "Survey wave 2: answers", "Codings"):
        assert expected in labels
    assert any(label.startswith("Analysis: ") and "seed " in value for label, value in before.items)
    assert any(
        label.startswith("Sample: ") and "seed 2013" in value for label, value in before.items
    )
    answer = Answer.objects.filter(interview__wave__study=study, interview__wave__number=2).first()
    Answer.objects.filter(pk=answer.pk).update(value="changed by the test")
    after = dict(provenance.study_provenance(study).items)
    changed = [label for label, value in before.items if after[label] != value]
    assert changed == [provenance.SNAPSHOT_LABEL, "Survey wave 2: answers"]
