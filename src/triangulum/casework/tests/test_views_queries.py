"""Codebook, retrieval, search, combinations, matrix coding, co-occurrence and agreement
pages through the test client, with blind mode applied everywhere."""

import csv
import io

import pytest
from django.urls import reverse

from triangulum.casework import actions, queries
from triangulum.casework.codebook.qdc import read_codebook_qdc_bytes
from triangulum.casework.models import Code, ReliabilityAssignment

from . import ui_fixtures
from .ui_fixtures import TRANSCRIPT

pytestmark = pytest.mark.django_db
codes = ui_fixtures.codes
team = ui_fixtures.team
transcript = ui_fixtures.transcript


def code_at(users, transcript, code, phrase, coder="coder"):
    start = TRANSCRIPT.index(phrase)
    return actions.apply_coding(
        source=transcript, code=code, start=start, end=start + len(phrase), coder=users[coder]
    )


@pytest.fixture
def coded(team, transcript, codes):
    study, users = team
    case = actions.ensure_case(study=study, kind="site", name="CCG A", actor=users["lead"])
    actions.attach_sources_to_case(case=case, sources=[transcript], actor=users["lead"])
    return {
        "case": case,
        "led": code_at(users, transcript, codes["leadership"], "led by GPs"),
        "team": code_at(users, transcript, codes["partners"], "integrated care team met weekly"),
        "led2": code_at(users, transcript, codes["leadership"], "was led by GPs", coder="coder2"),
        "board": code_at(users, transcript, codes["partners"], "the pathway board", coder="coder2"),
    }


def test_codebook_tree_and_editing(client, team, codes):
    study, users = team
    client.force_login(users["viewer"])
    page = client.get(reverse("casework:codebook", args=[study.slug])).text
    assert "GPs leading change." in page and "Partners" in page and "RQ1" in page
    assert "Add a code" not in page
    assert client.get(reverse("casework:code_create", args=[study.slug])).status_code == 403

    client.force_login(users["researcher"])
    response = client.post(
        reverse("casework:code_create", args=[study.slug]),
        {
            "name": "Finance",
            "parent": "",
            "colour": "#aa3300",
            "definition": "Money.",
            "research_questions": [study.research_questions.get(number=1).pk],
        },
    )
    finance = Code.objects.get(name="Finance")
    assert response.status_code == 302 and finance.colour == "#aa3300"
    response = client.post(
        reverse("casework:code_edit", args=[study.slug, finance.pk]),
        {"name": "Finance and contracts", "parent": codes["integration"].pk, "colour": "#aa3300"},
    )
    finance.refresh_from_db()
    assert response.status_code == 302
    assert finance.name == "Finance and contracts" and finance.parent == codes["integration"]
    bad = client.post(
        reverse("casework:code_edit", args=[study.slug, finance.pk]),
        {"name": "Finance", "parent": "", "colour": "blue"},
    )
    assert bad.status_code == 400 and "#RRGGBB" in bad.text
    client.post(
        reverse("casework:code_merge", args=[study.slug, finance.pk]),
        {"target": codes["leadership"].pk},
    )
    finance.refresh_from_db()
    assert not finance.is_active


def test_codebook_downloads(client, team, codes):
    study, users = team
    client.force_login(users["viewer"])
    data = client.get(reverse("casework:codebook_export", args=[study.slug, "csv"])).content
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert any(r.get("path", r.get("code", "")).endswith("Integration/Partners") for r in rows)
    qdc = client.get(reverse("casework:codebook_export", args=[study.slug, "qdc"])).content
    records, _ = read_codebook_qdc_bytes(qdc, "codebook.qdc")
    assert {r.path for r in records} == {
        "Clinical leadership",
        "Integration",
        "Integration/Partners",
    }


def test_retrieval_with_subcodes_and_filters_respects_blind_mode(
    client, team, transcript, codes, coded
):
    study, users = team
    url = reverse("casework:retrieval", args=[study.slug])
    client.force_login(users["coder"])
    page = client.get(url, {"code": codes["integration"].pk, "include_subcodes": "on"}).text
    assert "integrated care team met weekly" in page and "the pathway board" in page
    assert "2 segments" in page
    page = client.get(url, {"code": codes["integration"].pk}).text
    assert "0 segments" in page
    page = client.get(
        url, {"code": codes["integration"].pk, "include_subcodes": "on", "role": "gp_member"}
    ).text
    assert "integrated care team met weekly" in page and "the pathway board" in page
    page = client.get(
        url, {"code": codes["integration"].pk, "include_subcodes": "on", "role": "chair"}
    ).text
    assert "0 segments" in page
    assignment = ReliabilityAssignment.objects.create(study=study, source=transcript, blind=True)
    assignment.coders.set([users["coder"], users["coder2"]])
    page = client.get(url, {"code": codes["integration"].pk, "include_subcodes": "on"}).text
    assert "integrated care team met weekly" in page and "the pathway board" not in page


def test_search_links_into_the_reader(client, team, transcript):
    study, users = team
    client.force_login(users["coder"])
    page = client.get(reverse("casework:search", args=[study.slug]), {"q": "PATHWAY"}).text
    assert "2 matches" in page
    at = TRANSCRIPT.index("pathway")
    assert f"?at={at}#at" in page
    reader = client.get(
        reverse("casework:reader", args=[study.slug, transcript.pk]), {"at": at}
    ).text
    assert 'id="at"' in reader


def test_code_combinations(client, team, codes, coded):
    study, users = team
    client.force_login(users["lead"])
    url = reverse("casework:combinations", args=[study.slug])
    common = {"code_a": codes["leadership"].pk, "code_b": codes["integration"].pk}
    page = client.get(url, {**common, "operator": "and"}).text
    assert "0 segments of A" in page
    page = client.get(url, {**common, "operator": "near_characters", "distance": 30}).text
    assert "2 segments of A" in page
    page = client.get(url, {**common, "operator": "near_turns", "distance": 0}).text
    assert "2 segments of A" in page
    page = client.get(url, {**common, "operator": "not"}).text
    assert "2 segments of A" in page


def test_matrix_coding_cells_open_their_segments(client, team, codes, coded):
    study, users = team
    client.force_login(users["researcher"])
    page = client.get(
        reverse("casework:matrix_query", args=[study.slug]),
        {
            "codes": [codes["leadership"].pk, codes["integration"].pk],
            "rows": "cases",
            "case_kind": "site",
            "count": "segments",
        },
    ).text
    result = queries.matrix_coding(study, [codes["leadership"]], "cases", case_kind="site")
    ids = result.cell(coded["case"].pk, codes["leadership"]).coding_ids
    assert sorted(ids) == sorted([coded["led"].pk, coded["led2"].pk])
    assert "2 segments: CCG A × Clinical leadership" in page
    segments_url = reverse("casework:segments", args=[study.slug])
    panel = client.get(segments_url, {"ids": ",".join(map(str, ids))}, HTTP_HX_REQUEST="true").text
    assert panel.count('class="segment"') == 2 and "was led by GPs" in panel


def test_cooccurrence_table_and_warning(client, team, transcript, codes, coded):
    study, users = team
    for phrase in (
        "How",
        "did",
        "start",
        "frail",
        "elderly",
        "pathway",
        "Social",
        "care",
        "community",
        "trust",
        "joined",
    ):
        code_at(users, transcript, codes["integration"], phrase)
    client.force_login(users["lead"])
    page = client.get(
        reverse("casework:cooccurrence", args=[study.slug]),
        {"codes": [codes["leadership"].pk, codes["integration"].pk]},
    ).text
    assert "Read with care" in page and "very unequal (2 and 13)" in page
    result = queries.cooccurrence(study, [codes["leadership"], codes["integration"]])
    pair = result.pair(codes["leadership"], codes["integration"])
    assert f"{pair.count} (" in page


def test_agreement_page_and_differences(client, team, transcript, codes, coded):
    study, users = team
    client.force_login(users["coder"])
    assert client.get(reverse("casework:agreement", args=[study.slug])).status_code == 403
    client.force_login(users["lead"])
    page = client.get(
        reverse("casework:agreement", args=[study.slug]),
        {"coders": [users["coder"].pk, users["coder2"].pk]},
    ).text
    report = queries.agreement_for_study(study, [users["coder"], users["coder2"]])
    overall = report.overall
    assert f"{overall.characters_all_text.kappa:.3f}" in page
    assert f"{overall.characters_coded_text.kappa:.3f}" in page
    assert "Cohen&#x27;s kappa over characters, text some coder coded" in page
    differences = client.get(
        reverse("casework:agreement_differences", args=[study.slug, transcript.pk]),
        {"coder": [users["coder"].pk, users["coder2"].pk]},
    ).text
    start = TRANSCRIPT.index("was led")
    assert f"?at={start}#at" in differences  # "was " coded only by coder2
    assert "integrated care team met weekly" in differences
    one = client.get(
        reverse("casework:agreement_differences", args=[study.slug, transcript.pk]),
        {"coder": [users["coder"].pk]},
    )
    assert one.status_code == 400
