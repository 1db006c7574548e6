"""Framework matrices: actions (validated, audited), the matrix and cell pages, and the
XLSX/DOCX exports opened with openpyxl and python-docx."""

import io

import pytest
from django.urls import reverse

from triangulum.audit.models import AuditEvent
from triangulum.casework import actions, framework
from triangulum.casework.models import Case, FrameworkCell

from . import ui_fixtures
from .ui_fixtures import TRANSCRIPT

pytestmark = pytest.mark.django_db
codes = ui_fixtures.codes
team = ui_fixtures.team
transcript = ui_fixtures.transcript
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def charted(team, transcript, codes):
    """A site case holding the transcript, two codings, and a matrix over two codes."""
    study, users = team
    case = actions.ensure_case(study=study, kind="site", name="CCG A", actor=users["lead"])
    actions.attach_sources_to_case(case=case, sources=[transcript], actor=users["lead"])
    other = actions.ensure_case(study=study, kind="site", name="CCG B", actor=users["lead"])

    def code(phrase, code_obj, coder="coder"):
        start = TRANSCRIPT.index(phrase)
        return actions.apply_coding(
            source=transcript,
            code=code_obj,
            start=start,
            end=start + len(phrase),
            coder=users[coder],
        )

    led = code("led by GPs", codes["leadership"])
    partners = code("Social care and the community trust", codes["partners"], coder="coder2")
    matrix = framework.create_matrix(
        study=study,
        name="RQ1 leadership by site",
        research_question=study.research_questions.get(number=1),
        case_kind="site",
        codes=[codes["leadership"], codes["integration"]],
        cases=[case, other],
        actor=users["researcher"],
    )
    return {"case": case, "other": other, "led": led, "partners": partners, "matrix": matrix}


def test_create_matrix_refuses_bad_input_and_stores_nothing(team, codes):
    study, users = team
    site = actions.ensure_case(study=study, kind="site", name="CCG A", actor=users["lead"])
    person = actions.ensure_case(study=study, kind="participant", name="P001", actor=users["lead"])
    common = {"study": study, "case_kind": "site", "actor": users["lead"]}
    with pytest.raises(framework.FrameworkError, match="needs a name"):
        framework.create_matrix(name=" ", codes=[codes["leadership"]], cases=[site], **common)
    with pytest.raises(framework.FrameworkError, match="at least one code"):
        framework.create_matrix(name="M", codes=[], cases=[site], **common)
    with pytest.raises(framework.FrameworkError, match="not of kind 'site': P001"):
        framework.create_matrix(
            name="M", codes=[codes["leadership"]], cases=[site, person], **common
        )
    assert not study.framework_matrices.exists()
    framework.create_matrix(name="M", codes=[codes["leadership"]], cases=[site], **common)
    with pytest.raises(framework.FrameworkError, match="already has a matrix named 'M'"):
        framework.create_matrix(name="M", codes=[codes["leadership"]], cases=[site], **common)
    assert AuditEvent.objects.filter(action="casework.create_matrix").count() == 1


def test_rq_matrices_follow_the_codebook(team, codes):
    study, users = team
    actions.ensure_case(study=study, kind="site", name="CCG A", actor=users["lead"])
    made = framework.create_rq_matrices(study=study, case_kind="site", actor=users["lead"])
    assert [m.name for m in made] == ["RQ1: Question 1 by site", "RQ2: Question 2 by site"]
    assert {c.name for c in made[1].codes.all()} == {"Integration", "Partners"}
    assert made[0].cases.get().name == "CCG A"
    assert framework.create_rq_matrices(study=study, case_kind="site", actor=users["lead"]) == []


def test_cell_summary_rests_only_on_the_cases_segments_of_that_code(team, charted):
    study, users = team
    matrix, case = charted["matrix"], charted["case"]
    leadership = charted["led"].code
    integration = charted["partners"].code.parent
    with pytest.raises(framework.FrameworkError, match="are not codings of 'Clinical leadership'"):
        framework.set_cell_summary(
            matrix=matrix,
            case=case,
            code=leadership,
            summary="x",
            segment_ids=[charted["partners"].pk],
            actor=users["researcher"],
        )
    assert not FrameworkCell.objects.exists()
    # A sub-code's segment counts for its parent's column.
    cell = framework.set_cell_summary(
        matrix=matrix,
        case=case,
        code=integration,
        summary="Social care joined late.",
        segment_ids=[charted["partners"].pk],
        actor=users["researcher"],
    )
    assert list(cell.segments.all()) == [charted["partners"]]
    event = AuditEvent.objects.get(action="casework.set_cell_summary")
    assert event.study_id == study.pk and event.after["segments"] == [charted["partners"].pk]
    view = framework.matrix_view(matrix)
    by_name = {(c.case.name, c.code.name): c for row in view.rows for c in row.cells}
    assert by_name[("CCG A", "Integration")].summary == "Social care joined late."
    assert by_name[("CCG A", "Integration")].segment_count == 1
    assert by_name[("CCG A", "Clinical leadership")].candidate_count == 1
    assert by_name[("CCG B", "Clinical leadership")].candidate_count == 0
    assert view.charted == 1 and view.size == 4


def test_a_researcher_charts_a_cell_through_the_page(client, team, charted):
    study, users = team
    matrix, case, led = charted["matrix"], charted["case"], charted["led"]
    url = reverse("casework:framework_cell", args=[study.slug, matrix.pk, case.pk, led.code_id])
    client.force_login(users["researcher"])
    panel = client.get(url, **HTMX).text
    assert "led by GPs" in panel and f'value="{led.pk}"' in panel
    response = client.post(url, {"summary": "GPs lead.", "segments": [led.pk]}, **HTMX)
    assert "Saved the summary" in response.text
    cell = FrameworkCell.objects.get()
    assert cell.summary == "GPs lead." and list(cell.segments.all()) == [led]
    page = client.get(reverse("casework:framework", args=[study.slug, matrix.pk])).text
    assert "GPs lead." in page and "1 linked / 1 coded" in page


def test_viewers_read_summaries_but_not_segments_and_cannot_write(client, team, charted):
    study, users = team
    matrix, case, led = charted["matrix"], charted["case"], charted["led"]
    framework.set_cell_summary(
        matrix=matrix,
        case=case,
        code=led.code,
        summary="GPs lead.",
        segment_ids=[led.pk],
        actor=users["lead"],
    )
    url = reverse("casework:framework_cell", args=[study.slug, matrix.pk, case.pk, led.code_id])
    client.force_login(users["viewer"])
    panel = client.get(url).text
    assert "GPs lead." in panel and "Rests on 1 segment" in panel
    assert "led by GPs" not in panel
    assert client.post(url, {"summary": "changed"}).status_code == 403
    for role in ("coder",):
        client.force_login(users[role])
        assert client.post(url, {"summary": "changed"}).status_code == 403
    assert FrameworkCell.objects.get().summary == "GPs lead."


def test_exports_hold_the_summaries_in_real_tables(client, team, charted):
    study, users = team
    matrix, case, led = charted["matrix"], charted["case"], charted["led"]
    framework.set_cell_summary(
        matrix=matrix,
        case=case,
        code=led.code,
        summary="GPs lead the redesign.",
        segment_ids=[led.pk],
        actor=users["lead"],
    )
    client.force_login(users["viewer"])
    url = reverse("casework:framework", args=[study.slug, matrix.pk])

    from openpyxl import load_workbook

    xlsx = client.get(url + "?format=xlsx")
    assert xlsx["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Matrix"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows.index(["Site", "Clinical leadership", "Integration"])
    body = {row[0]: row[1:] for row in rows[header + 1 :]}
    assert body["CCG A"][0] == "GPs lead the redesign.\n[1 linked segment(s)]"
    assert body["CCG B"] == [None, None]
    segments = [[c.value for c in row] for row in book["Segments"].iter_rows()]
    assert segments[1][:3] == ["CCG A", "Clinical leadership", "Interview at CCG A (simulated)"]
    assert segments[1][-1] == "led by GPs"

    from docx import Document

    docx = client.get(url + "?format=docx")
    document = Document(io.BytesIO(docx.content))
    [table] = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == ["Site", "Clinical leadership", "Integration"]
    assert table.rows[0]._tr.trPr.xpath("./w:tblHeader")  # repeats on each page
    assert cells[1][0] == "CCG A" and cells[1][1].startswith("GPs lead the redesign.")
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "Table 1. Framework matrix: RQ1 leadership by site (RQ1: Research question 1?)"
    ]
    assert any("led by GPs" in p.text for p in document.paragraphs)


def test_matrices_page_creates_matrices(client, team, charted, codes):
    study, users = team
    client.force_login(users["researcher"])
    url = reverse("casework:frameworks", args=[study.slug])
    response = client.post(
        url,
        {
            "what": "matrix",
            "name": "Integration by site",
            "case_kind": "site",
            "codes": [codes["integration"].pk],
            "research_question": "",
        },
    )
    made = study.framework_matrices.get(name="Integration by site")
    assert response.status_code == 302
    assert set(made.cases.values_list("name", flat=True)) == {"CCG A", "CCG B"}
    response = client.post(url, {"what": "rq", "rq-case_kind": "site"})
    assert study.framework_matrices.filter(name__startswith="RQ2").exists()
    client.force_login(users["viewer"])
    assert client.post(url, {"what": "rq", "rq-case_kind": "site"}).status_code == 403
    assert Case.objects.filter(study=study).count() == 2
