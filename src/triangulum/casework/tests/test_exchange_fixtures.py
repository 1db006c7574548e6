"""Importing the real REFI-QDA files in ../shared/fixtures/refi_qda/ into a study.

Expected counts come from the files themselves, counted with defusedxml's ElementTree
independently of Triangulum's reader (as in test_refi_fixtures.py).
"""

import io
import json
import zipfile

import defusedxml.ElementTree as ET
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from triangulum.audit.models import AuditEvent
from triangulum.casework.exchange import (
    SET_MEMO_PREFIX,
    ExchangeError,
    MissingSourcesError,
    import_project,
)
from triangulum.casework.models import Case, Code, CodebookVersion, Coding, Memo, Source
from triangulum.casework.refi import BrokenFileError
from triangulum.casework.tests.test_refi_fixtures import BROKEN, READABLE, fixture
from triangulum.studies.actions import create_study

pytestmark = [pytest.mark.acceptance, pytest.mark.django_db]

MAXQDA = "bedingjd_paper_themes/project.qde"
HAND_AUTHORED = "ornio_qdpx-toolkit/hand_authored/project.qde"


def xml_root(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            (inner,) = [n for n in archive.namelist() if n.endswith(".qde")]
            return ET.fromstring(archive.read(inner))
    return ET.parse(path).getroot()


def local(tag):
    return tag.rsplit("}", 1)[-1]


def expected_counts(path):
    """Counts from the XML: text sources whose text the file holds, and their codings."""
    root = xml_root(path)
    folder_files = set()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            folder_files = {n.lower() for n in archive.namelist()}
    elif (path.parent / "sources").is_dir():
        folder_files = {f"sources/{p.name.lower()}" for p in (path.parent / "sources").iterdir()}
    text_sources = [e for e in root.iter() if local(e.tag) == "TextSource"]
    present = []
    for source in text_sources:
        inline = [c for c in source if local(c.tag) == "PlainTextContent"]
        where = source.get("plainTextPath", "")
        name = "sources/" + where.removeprefix("internal://").lower()
        if inline or (where.startswith("internal://") and name in folder_files):
            present.append(source)
    codings = 0
    for source in present:
        for element in source.iter():
            if local(element.tag) != "Coding":
                continue
            codings += 1
    return {
        "codes": sum(1 for e in root.iter() if local(e.tag) == "Code"),
        "sources": len(present),
        "missing": len(text_sources) - len(present),
        "codings": codings,
        "cases": sum(1 for e in root.iter() if local(e.tag) == "Case"),
        "notes": sum(1 for e in root.iter() if local(e.tag) == "Note"),
        "users": sum(1 for e in root.iter() if local(e.tag) == "User"),
        "sets": sum(1 for e in root.iter() if local(e.tag) == "Set"),
    }


@pytest.fixture
def study():
    return create_study(actor="test", slug="exchange-test", title="Exchange test")


def stored(study):
    coders = set(Coding.objects.filter(source__study=study).values_list("coder_id", flat=True))
    return {
        "codes": Code.objects.filter(study=study).count(),
        "sources": Source.objects.filter(study=study).count(),
        "codings": Coding.objects.filter(source__study=study).count(),
        "cases": Case.objects.filter(study=study).count(),
        "notes": Memo.objects.filter(study=study)
        .exclude(title__startswith=SET_MEMO_PREFIX)
        .count(),
        "sets": Memo.objects.filter(study=study, title__startswith=SET_MEMO_PREFIX).count(),
        "coders": coders,
    }


@pytest.mark.parametrize("name", READABLE)
def test_every_readable_fixture_imports_with_the_counts_of_the_file(study, name):
    path = fixture(name)
    expected = expected_counts(path)
    report = import_project(
        study=study, path=path, actor="test", accept_missing_sources=expected["missing"] > 0
    )
    found = stored(study)
    assert found["codes"] == expected["codes"]
    assert found["sources"] == expected["sources"]
    assert found["codings"] == expected["codings"]
    assert found["cases"] == expected["cases"]
    assert found["notes"] == expected["notes"]
    assert found["sets"] == expected["sets"]
    assert report.counts["users"] == expected["users"]
    assert len(report.missing_sources) == expected["missing"]
    # Every REFI user became one inactive account that cannot sign in.
    User = get_user_model()
    placeholders = User.objects.filter(username__in=report.placeholders_created)
    assert placeholders.count() == len(report.placeholders_created) == expected["users"]
    assert not any(u.is_active or u.has_usable_password() for u in placeholders)
    assert found["coders"] <= set(placeholders.values_list("pk", flat=True))
    # One codebook version records the import, and one audit event summarises it.
    version = CodebookVersion.objects.get(study=study)
    assert version.note.startswith("imported from REFI-QDA")
    assert len(version.snapshot) == expected["codes"]
    (event,) = AuditEvent.objects.filter(study_id=study.id, action="casework.refi_import")
    assert event.after["counts"]["codings"] == expected["codings"]


def test_hand_authored_project_lands_on_the_same_words_with_its_coder_case_and_note(study):
    report = import_project(study=study, path=fixture(HAND_AUTHORED), actor="test")
    (source,) = Source.objects.filter(study=study)
    assert source.text == "Diet and health are closely linked in this interview."
    assert (
        source.original_bytes
        == fixture(
            "ornio_qdpx-toolkit/hand_authored/sources/11111111-1111-1111-1111-111111111111.txt"
        ).read_bytes()
    )
    texts = sorted(
        (source.text[c.start : c.end], c.code.name, c.coder.username)
        for c in Coding.objects.filter(source=source).select_related("code", "coder")
    )
    coder = report.placeholders_created[0]
    assert coder == "refi-Researcher-A"
    # The file's first selection (0-15) is coded Health, the second (9-23) Diet.
    assert texts == [("Diet and health", "Health", coder), ("health are clo", "Diet", coder)]
    topics = Code.objects.get(study=study, parent=None, name="Topics")
    assert sorted(topics.children.values_list("name", flat=True)) == ["Health", "Wellbeing"]
    assert Code.objects.get(study=study, name="Health").colour == "#33cc33"
    (case,) = Case.objects.filter(study=study)
    assert case.attributes == {"Age": 34, "Consented": True}
    assert list(case.sources.all()) == [source]
    (memo,) = Memo.objects.filter(study=study).exclude(title__startswith=SET_MEMO_PREFIX)
    assert memo.text == "Remember to follow up on diet-related comments."
    (set_memo,) = Memo.objects.filter(study=study, title__startswith=SET_MEMO_PREFIX)
    assert "20000000-0000-0000-0000-000000000003" in set_memo.text
    assert str(source.guid) in set_memo.text
    assert any("picture, PDF, audio or video" in item for item in report.not_imported)


def test_maxqda_project_without_its_texts_is_refused_listing_all_ten_and_stores_nothing(study):
    with pytest.raises(MissingSourcesError) as caught:
        import_project(study=study, path=fixture(MAXQDA), actor="test")
    assert len(caught.value.problems) == 10
    assert all("missing" in problem for problem in caught.value.problems)
    assert "ICLS 2024 3-10" in caught.value.problems[0]
    assert stored(study)["codes"] == 0 and not CodebookVersion.objects.filter(study=study).exists()
    assert not AuditEvent.objects.filter(action="casework.refi_import").exists()


def test_maxqda_project_imports_codebook_and_sets_when_the_rest_is_accepted(study):
    report = import_project(
        study=study, path=fixture(MAXQDA), actor="test", accept_missing_sources=True
    )
    assert len(report.missing_sources) == 10
    found = stored(study)
    assert (found["codes"], found["sources"], found["sets"]) == (307, 0, 2)
    first = Code.objects.get(study=study, parent=None, name="Additional Themes and Ideas")
    assert first.colour == "#ef8256" and first.definition
    sets = Memo.objects.filter(study=study, title__startswith=SET_MEMO_PREFIX).order_by("title")
    assert [m.title for m in sets] == [SET_MEMO_PREFIX + "ICLS 2024", SET_MEMO_PREFIX + "ICLS 2025"]
    # The sets' members were all sources whose texts are missing: each is reported.
    assert sum("member source" in item for item in report.not_imported) == 10


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_codebooks_are_refused_with_line_and_column_and_store_nothing(study, name):
    line, column, _ = BROKEN[name]
    with pytest.raises(BrokenFileError) as caught:
        import_project(study=study, path=fixture(name), actor="test")
    assert (caught.value.line, caught.value.column) == (line, column)
    with pytest.raises(CommandError, match=f"line {line}, column {column}"):
        call_command("qdpx", "import", str(fixture(name)), "--study", study.slug)
    assert stored(study)["codes"] == 0


def test_importing_the_same_file_twice_is_refused_and_leaves_the_first_import_intact(study):
    import_project(study=study, path=fixture(HAND_AUTHORED), actor="test")
    before = stored(study)
    with pytest.raises(ExchangeError, match="already in this study"):
        import_project(study=study, path=fixture(HAND_AUTHORED), actor="test")
    assert stored(study) == before
    # The same file goes into another study without trouble (GUIDs are per study).
    other = create_study(actor="test", slug="exchange-other", title="Other")
    import_project(study=other, path=fixture(HAND_AUTHORED), actor="test")
    assert stored(other)["codings"] == before["codings"]


def test_users_map_onto_existing_accounts_when_asked(study):
    User = get_user_model()
    ana = User.objects.create_user("ana", password="a-long-password-1")
    project_users = [u for u in xml_root(fixture(HAND_AUTHORED)).iter() if local(u.tag) == "User"]
    report = import_project(
        study=study,
        path=fixture(HAND_AUTHORED),
        actor="test",
        coder_map={project_users[0].get("name"): "ana"},
    )
    assert report.placeholders_created == []
    assert set(
        Coding.objects.filter(source__study=study).values_list("coder__username", flat=True)
    ) == {"ana"}
    assert ana.is_active


def test_command_imports_with_json_report_and_refuses_missing_texts(study):
    out = io.StringIO()
    call_command(
        "qdpx", "import", str(fixture(HAND_AUTHORED)), "--study", study.slug, "--json", stdout=out
    )
    report = json.loads(out.getvalue())
    assert report["counts"]["codings"] == stored(study)["codings"] > 0
    with pytest.raises(CommandError) as caught:
        call_command("qdpx", "import", str(fixture(MAXQDA)), "--study", study.slug)
    assert "10 source text(s) are missing" in str(caught.value)
    assert "--accept-missing-sources" in str(caught.value)
    out = io.StringIO()
    call_command(
        "qdpx", "import", str(fixture(MAXQDA)), "--study", study.slug,
        "--accept-missing-sources", stdout=out,
    )  # fmt: skip
    assert "Source texts missing (not imported) (10)" in out.getvalue()
    with pytest.raises(CommandError, match="no study with slug"):
        call_command("qdpx", "import", str(fixture(MAXQDA)), "--study", "nonesuch")
