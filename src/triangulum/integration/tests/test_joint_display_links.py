"""Acceptance (issue 6): on the demo, every row of every joint display links to at least one
piece of survey evidence and one piece of case-study evidence, and every link opens for a
researcher, landing on the row or segment it names."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from triangulum.integration import queries
from triangulum.integration.models import JointDisplay
from triangulum.studies.models import Role
from triangulum.testing import demo_in_test_database, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from triangulum.integration.demo import MAIN_STEP

    shared_path("data", "nhs")
    folder = tmp_path_factory.mktemp("joint-display-demo")
    with demo_in_test_database(django_db_blocker, folder, until=MAIN_STEP) as ctx:
        with django_db_blocker.unblock():
            study = ctx.shared["study"]
            researcher = study.memberships.get(role=Role.RESEARCHER).user
            tables = [
                queries.display_table(display, Role.RESEARCHER)
                for display in JointDisplay.objects.filter(study=study).select_related(
                    "study", "research_question"
                )
            ]
            yield {"study": study, "researcher": researcher, "tables": tables}


@pytest.fixture
def client(demo):
    client = Client()
    client.force_login(demo["researcher"])
    return client


def test_the_demo_has_the_three_kinds_of_joint_display_all_simulated(demo):
    kinds = {table.display.kind for table in demo["tables"]}
    assert kinds == set(JointDisplay.Kind.values)
    for table in demo["tables"]:
        assert table.rows, f"{table.display.title} has no rows"
        assert table.is_simulated and table.display.is_simulated


def test_every_row_links_to_survey_and_case_study_evidence(demo):
    for table in demo["tables"]:
        for row in table.rows:
            where = f"{table.display.title}, row “{row.row.label}”"
            assert row.survey_evidence, f"{where} cites no survey evidence"
            assert row.case_study_evidence, f"{where} cites no case-study evidence"
            assert row.row.meta_inference.strip(), f"{where} has no meta-inference"


def test_every_evidence_link_opens_for_the_researcher_at_its_row_or_segment(demo, client):
    pages: dict[str, str] = {}
    checked = 0
    for table in demo["tables"]:
        for row in table.rows:
            for link in row.survey_evidence + row.case_study_evidence:
                assert link.may_follow, f"a researcher may not follow {link.url}"
                parts = urlsplit(link.url)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if path not in pages:
                    response = client.get(path)
                    assert response.status_code == 200, (
                        f"{link.label}: {path} gave {response.status_code}"
                    )
                    pages[path] = response.content.decode()
                if parts.fragment:
                    assert f'id="{parts.fragment}"' in pages[path], (
                        f"{link.label}: {path} has no element #{parts.fragment}"
                    )
                checked += 1
    assert checked >= 2 * sum(len(t.rows) for t in demo["tables"])


def test_survey_links_anchor_to_a_table_row_and_segment_links_to_the_coding(demo):
    kinds = set()
    for table in demo["tables"]:
        for row in table.rows:
            for link in row.survey_evidence + row.case_study_evidence:
                evidence = link.evidence
                kinds.add(evidence.kind)
                if evidence.kind == "analysis_result" and evidence.locator:
                    assert "#row-" in link.url, link.url
                if evidence.kind == "segment":
                    assert link.url.endswith(
                        f"/sources/{evidence.coding.source_id}/"
                        f"?at={evidence.coding.start}&coding={evidence.coding_id}#at"
                    )
    assert "analysis_result" in kinds and "segment" in kinds


def test_each_display_page_shows_every_link_and_a_meta_inference_form(demo, client):
    slug = demo["study"].slug
    for table in demo["tables"]:
        page = client.get(reverse("integration:display", args=[slug, table.display.slug]))
        assert page.status_code == 200
        text = page.content.decode()
        for row in table.rows:
            assert f'id="meta-inference-input-{row.row.pk}"' in text
            for link in row.survey_evidence + row.case_study_evidence:
                assert f'href="{escape(link.url)}"' in text


def test_a_viewer_reads_the_displays_but_is_not_sent_to_the_source_reader(demo):
    viewer = demo["study"].memberships.get(role=Role.VIEWER).user
    client = Client()
    client.force_login(viewer)
    slug = demo["study"].slug
    for table in demo["tables"]:
        response = client.get(reverse("integration:display", args=[slug, table.display.slug]))
        assert response.status_code == 200
        text = response.content.decode()
        assert "/casework/sources/" not in text
        # The evidence is still named, as text.
        for row in table.rows:
            for link in row.case_study_evidence:
                assert escape(link.label) in text
