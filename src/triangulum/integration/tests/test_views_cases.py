"""The linked-case, matrix, quantitized, cross-tabulation and QCA pages on the demo built
in the test database: who sees what, that no participant is named, that every number
opens the segments behind it, the downloads, and running a QCA from the web."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from triangulum.analysis import demo as analysis_demo
from triangulum.audit.models import AuditEvent
from triangulum.casework.models import Case, Code, Coding, FrameworkCell
from triangulum.integration import cases, qca_sites
from triangulum.integration.models import QcaRun
from triangulum.studies.models import ParticipantContact, Role
from triangulum.testing import demo_in_test_database, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]

SEGMENT = re.compile(r'<li class="segment"')
SEGMENT_LINK = re.compile(r'href="(/studies/[^"]+/casework/segments/by-id/\?[^"]+)"')


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    shared_path("data", "nhs")
    folder = tmp_path_factory.mktemp("views-cases-demo")
    with demo_in_test_database(
        django_db_blocker, folder, until=analysis_demo.STEPS[-1].name
    ) as context:
        with django_db_blocker.unblock():
            qca_sites.demo_qca(context.shared["study"])
        yield context


@pytest.fixture
def study(demo):
    return demo.shared["study"]


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=role))
    return client


def _url(study, name, *args):
    return reverse(f"integration:{name}", args=[study.slug, *args])


def _pages(study) -> list[str]:
    site = Case.objects.filter(study=study, kind="site").first()
    run = QcaRun.objects.filter(study=study).first()
    code = Code.objects.get(study=study, name="Clinician–manager alliance")
    return [
        _url(study, "cases"),
        _url(study, "cases") + "?kind=initiative",
        _url(study, "case", site.pk),
        _url(study, "mixed_matrix"),
        _url(study, "quantitized"),
        _url(study, "crosstab"),
        _url(study, "crosstab") + f"?code={code.pk}&variable=typology&min_count=1",
        _url(study, "qca"),
        _url(study, "qca_run", run.pk),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_readers_reach_the_pages_and_others_are_refused(study, role):
    client = client_for(role)
    for url in _pages(study):
        status = client.get(url).status_code
        if role in (Role.LEAD, Role.RESEARCHER, Role.VIEWER):
            assert status == 200, (role, url)
        else:
            assert status == 403, (role, url)


def test_every_page_says_the_data_are_simulated(study):
    client = client_for(Role.VIEWER)
    for url in _pages(study):
        assert b"Simulated data" in client.get(url).content, url


def _identifying_details() -> set[str]:
    found = set()
    for full_name, email, phone in ParticipantContact.objects.values_list(
        "full_name", "email", "phone"
    ):
        found |= {full_name, email, phone}
        bare = full_name.replace("(simulated)", "").split()
        if len(bare) >= 3:  # "Dr Noor Yarrham": the name without the title, and the surname
            found |= {" ".join(bare[1:]), bare[-1]}
    return {d for d in found if d and len(d) > 3}


def test_no_participant_name_or_contact_appears_on_a_linked_case_page(study):
    details = _identifying_details()
    assert len(details) > 1000
    sites = Case.objects.filter(study=study, kind="site")
    assert sites.count() == 21
    for role in (Role.LEAD, Role.VIEWER):
        client = client_for(role)
        for case in sites:
            page = unescape(client.get(_url(study, "case", case.pk)).content.decode())
            leaked = [d for d in details if d in page]
            assert leaked == [], (role, case.name, leaked[:5])


def test_the_linked_case_page_shows_both_sides(study):
    case = next(
        c
        for c in Case.objects.filter(study=study, kind="site")
        if c.attributes.get("site type") == "in-depth"
    )
    page = client_for(Role.RESEARCHER).get(_url(study, "case", case.pk)).content.decode()
    assert "Survey evidence" in page and "Case-study evidence" in page
    assert "Wave 1 (2014)" in page and "Wave 2 (2016)" in page
    assert "Typology class" in page
    for cell in FrameworkCell.objects.filter(case=case).exclude(summary=""):
        assert cell.code.name in page
    # Source titles and segment links for the analysis team; counts only for a viewer.
    source = case.organisation.case_sources.first()
    reader = reverse("casework:reader", args=[study.slug, source.pk])
    assert reader in page and SEGMENT_LINK.search(page)
    viewer_page = client_for(Role.VIEWER).get(_url(study, "case", case.pk)).content.decode()
    assert reader not in viewer_page and not SEGMENT_LINK.search(viewer_page)
    assert "interview" in viewer_page.lower()
    participant_case = Case.objects.filter(study=study, kind="participant").first()
    assert client_for(Role.LEAD).get(_url(study, "case", participant_case.pk)).status_code == 404


def test_every_number_of_the_quantitized_matrix_opens_its_segments(study):
    client = client_for(Role.RESEARCHER)
    url = _url(study, "quantitized") + "?measure=count&include_subcodes=on"
    page = client.get(url).content.decode()
    links = [unescape(link) for link in SEGMENT_LINK.findall(page)]
    view = cases.quantitized_matrix(
        study, measure="count", visible_to=get_user_model().objects.get(username="researcher")
    )
    nonzero = [v for v in view.matrix.values.values() if v]
    assert len(links) == len(nonzero) > 100
    # Follow a sample spread over the table: each link lists exactly its count of segments,
    # all of the cell's code and case.
    for link in links[:: max(1, len(links) // 25)]:
        query = parse_qs(urlsplit(link).query)
        ids = [int(i) for i in query["ids"][0].split(",")]
        case_name, code_name = query["label"][0].split(" × ")
        listed = client.get(link).content.decode()
        assert len(SEGMENT.findall(listed)) == len(ids)
        case = Case.objects.get(study=study, kind="site", name=case_name)
        code = Code.objects.get(study=study, name=code_name)
        codings = Coding.objects.filter(pk__in=ids)
        assert all(c.source.site_id == case.organisation_id for c in codings)
        assert view.matrix.value(case.pk, code.pk) == len(ids)


def test_a_viewer_sees_the_numbers_without_segment_links(study):
    page = client_for(Role.VIEWER).get(_url(study, "quantitized")).content.decode()
    assert "quantitized" in page and not SEGMENT_LINK.search(page)


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_quantitized_download_puts_survey_variables_beside_the_codes(study):
    code = Code.objects.get(study=study, name="Clinician–manager alliance")
    url = (
        _url(study, "quantitized")
        + f"?measure=share&code={code.pk}&survey=typology&survey=w2:prop_alliance&format=csv"
    )
    response = client_for(Role.VIEWER).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="simulated-')
    rows = _csv_rows(response)
    assert rows[0] == [
        "case",
        "organisation_code",
        "typology",
        "w2:prop_alliance",
        "Emerging themes/Clinician–manager alliance",
        "data",
    ]
    view = cases.quantitized_matrix(study, codes=[code], measure="share")
    by_name = {lc.name: lc for lc in view.cases}
    assert len(rows) == len(view.cases) + 1
    for row in rows[1:]:
        lc = by_name[row[0]]
        assert row[1] == lc.organisation.ods_code
        assert row[2] == str(cases.typology_class(study, lc.organisation))
        assert float(row[4]) == pytest.approx(view.matrix.value(lc.id, code.pk))
        assert row[5] == "simulated"
    xlsx = client_for(Role.VIEWER).get(url.replace("format=csv", "format=xlsx"))
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[-1] == "about"
    assert ("simulated", "yes: simulated data") in list(book["about"].iter_rows(values_only=True))


def test_the_mixed_matrix_page_and_download_follow_the_chosen_columns(study):
    cell = (
        FrameworkCell.objects.filter(matrix__study=study, case__kind="site")
        .exclude(summary="")
        .first()
    )
    columns = ["typology", "w1:vision_set", f"fw:{cell.matrix_id}:{cell.code_id}"]
    query = "&".join(f"col={c}" for c in columns)
    page = client_for(Role.VIEWER).get(_url(study, "mixed_matrix") + f"?kind=site&{query}")
    text = page.content.decode()
    assert "W1 vision_set" in text
    assert (
        reverse(
            "casework:framework_cell", args=[study.slug, cell.matrix_id, cell.case_id, cell.code_id]
        )
        in text
    )
    rows = _csv_rows(
        client_for(Role.VIEWER).get(_url(study, "mixed_matrix") + f"?kind=site&{query}&format=csv")
    )
    assert rows[0] == ["case", "organisation_code", *columns, "data"]
    charted = next(r for r in rows if r[0] == cell.case.name)
    assert charted[4] == cell.summary
    bad = client_for(Role.VIEWER).get(_url(study, "mixed_matrix") + "?col=w9:nothing")
    assert bad.status_code == 400


def test_the_cross_tabulation_counts_cases_and_links_their_segments(study):
    code = Code.objects.get(study=study, name="Clinician–manager alliance")
    url = (
        _url(study, "crosstab")
        + f"?code={code.pk}&variable=w1:vision_set&min_count=1&include_subcodes=on"
    )
    page = client_for(Role.LEAD).get(url).content.decode()
    result = cases.crosstab(study, code=code, variable_key="w1:vision_set")
    coded_cases = sum(len(v) for (value, column), v in result.table.cases.items() if column == 1)
    links = [unescape(link) for link in SEGMENT_LINK.findall(page)]
    ids = [i for link in links for i in parse_qs(urlsplit(link).query)["ids"][0].split(",")]
    coded_ids = {i for case_id, found in result.codings.items() for i in found}
    assert coded_cases > 0
    assert {int(i) for i in ids} == coded_ids
    assert "Who sets the vision" in page


def test_the_qca_run_page_and_its_memberships_download(study):
    run = QcaRun.objects.filter(study=study, set_type="fuzzy").first()
    client = client_for(Role.VIEWER)
    page = client.get(_url(study, "qca_run", run.pk)).content.decode()
    for heading in ("Calibration", "Truth table", "Necessity", "Solutions"):
        assert f"<h2>{heading}</h2>" in page
    assert "Complex solution" in page and "Parsimonious solution" in page
    for kind in ("complex", "parsimonious"):
        for model in run.results["solutions"][kind]:
            assert unescape(model["expression"]) in unescape(page)
    assert "crossover 0.01" in page and "±3 log-odds" in page
    response = client.get(_url(study, "qca_run", run.pk) + "?format=csv")
    rows = _csv_rows(response)
    assert rows[0] == ["case", *run.conditions, run.outcome, "data"]
    assert len(rows) == len(run.memberships) + 1
    assert float(rows[1][1]) == run.memberships[0][run.conditions[0]]


def test_a_researcher_runs_a_qca_from_the_page(study):
    client = client_for(Role.RESEARCHER)
    code = Code.objects.get(study=study, name="Managerial support")
    data = {
        "name": "Support and benefits",
        "unit": "site",
        "set_type": "crisp",
        "outcome": "TYPE1",
        "conditions": "SUPPORT",
        "calibration": (
            '{"TYPE1": {"source": "typology", "method": "members", "members": [1]},'
            f' "SUPPORT": {{"source": "code_count", "code": {code.pk}, "method": "threshold",'
            ' "threshold": 1}}'
        ),
        "incl_cut": "0.8",
        "n_cut": "1",
        "remainders": "both",
    }
    response = client.post(_url(study, "qca"), data)
    run = QcaRun.objects.get(study=study, name="Support and benefits")
    assert response.status_code == 302
    assert response["Location"] == _url(study, "qca_run", run.pk)
    assert run.created_by.username == "researcher"
    assert run.calibration["codings_visible_to"] == "researcher"
    assert (
        AuditEvent.objects.filter(action="integration.qca_run", object_id=str(run.pk)).count() == 1
    )


def test_a_bad_qca_form_is_refused_with_the_problem_and_nothing_stored(study):
    client = client_for(Role.LEAD)
    before = QcaRun.objects.count()
    data = {
        "name": "Broken",
        "unit": "site",
        "set_type": "crisp",
        "outcome": "Y",
        "conditions": "A",
        "incl_cut": "0.8",
        "n_cut": "1",
        "remainders": "both",
    }
    not_json = client.post(_url(study, "qca"), {**data, "calibration": "{not json"})
    assert not_json.status_code == 400 and b"Not valid JSON" in not_json.content
    fuzzy_in_crisp = client.post(
        _url(study, "qca"),
        {
            **data,
            "calibration": '{"A": {"source": "code_share", "code": 1, "method": "direct",'
            ' "anchors": [0, 0.01, 0.03]}, "Y": {"source": "typology", "method": "members",'
            ' "members": [1]}}',
        },
    )
    assert fuzzy_in_crisp.status_code == 400
    assert "set A, method: direct calibration gives fuzzy" in unescape(
        fuzzy_in_crisp.content.decode()
    )
    assert QcaRun.objects.count() == before
    refused = client_for(Role.VIEWER).post(_url(study, "qca"), {**data, "calibration": "{}"})
    assert refused.status_code == 403 and QcaRun.objects.count() == before
