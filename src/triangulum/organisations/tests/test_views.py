"""The frame browser and organisation pages, through Django's test client."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from triangulum.studies.models import Role, Study, StudyMembership

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nhs_organisations")]


@pytest.fixture
def study():
    return Study.objects.create(slug="frame-test", title="Frame test study")


@pytest.fixture
def member(client, study):
    user = get_user_model().objects.create_user("viewer", password="pw")
    StudyMembership.objects.create(study=study, user=user, role=Role.VIEWER)
    client.force_login(user)
    return client


def frame_url(study, **params):
    url = reverse("organisations:frame", args=[study.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def row_codes(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)">', html)


def test_frame_defaults_to_ccgs_of_april_2013(member, study):
    response = member.get(frame_url(study))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form id="frame-filters"' in html and 'id="frame-results"' in html
    assert 'value="2013-04-01"' in html
    assert "211 organisations" in html
    assert len(row_codes(html)) == 50  # first page
    assert (
        'hx-get="' in html and 'hx-target="#frame-results"' in html and 'hx-push-url="true"' in html
    )


def test_every_filter_input_has_a_label(member, study):
    html = member.get(frame_url(study)).content.decode()
    start = html.index('<form id="frame-filters"')
    form = html[start : html.index("</form>", start)]
    controls = [
        tag for tag in re.findall(r"<(?:input|select)[^>]*>", form) if 'type="hidden"' not in tag
    ]
    ids = [re.search(r'\bid="([^"]+)"', tag).group(1) for tag in controls]
    assert {
        "id_type",
        "id_vintage",
        "id_region",
        "id_min_patients",
        "id_max_patients",
        "id_q",
    } <= set(ids)
    for field_id in ids:
        assert f'for="{field_id}"' in form, field_id


def test_region_filter_narrows_the_rows(member, study):
    everyone = member.get(frame_url(study, type="ccg", vintage="2013-04-01")).content.decode()
    london = member.get(
        frame_url(study, type="ccg", vintage="2013-04-01", region="Y56")
    ).content.decode()
    london_count = int(re.search(r"([\d,]+) organisations", london).group(1))
    assert 0 < london_count < 211
    assert '<option value="Y56" selected>London (Y56)</option>' in london
    # Barking and Dagenham (07L) is a London CCG; Darlington (00C) is not.
    assert "07L" in row_codes(london) and "00C" not in row_codes(london)
    assert "211 organisations" in everyone


def test_htmx_request_gets_only_the_results(member, study):
    response = member.get(
        frame_url(study, type="icb", vintage="2022-07-01", sort="-name"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and "frame-filters" not in html
    assert "42 organisations" in html and len(row_codes(html)) == 42
    # The form's hidden sort field and the status message are updated out of band.
    assert 'id="id_sort" value="-name" hx-swap-oob="true"' in html
    assert (
        'id="frame-status" class="visually-hidden" role="status" hx-swap-oob="true">42 ICBs match'
        in html
    )


def test_csv_download_keeps_the_filters_and_has_every_row(member, study):
    page = member.get(
        frame_url(study, type="ccg", vintage="2013-04-01", region="Y56")
    ).content.decode()
    csv_link = re.search(r'href="(\?[^"]*format=csv[^"]*)"', page).group(1).replace("&amp;", "&")
    response = member.get(reverse("organisations:frame", args=[study.slug]) + csv_link)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and set(rows[0]) >= {"ods_code", "name", "region_code", "registered_patients"}
    assert {row["region_code"] for row in rows} == {"Y56"}
    assert len(rows) == int(re.search(r"([\d,]+) organisations", page).group(1))


def test_csv_of_all_practices_is_not_paginated(member, study):
    response = member.get(frame_url(study, type="practice", format="csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 8053
    assert sum(int(row["registered_patients"]) for row in rows) == 56_002_534


def test_sorting_and_paging(member, study):
    html = member.get(
        frame_url(study, type="ccg", vintage="2013-04-01", sort="-registered_patients")
    ).content.decode()
    assert 'aria-sort="descending"' in html
    first_page = row_codes(html)
    second = member.get(
        frame_url(study, type="ccg", vintage="2013-04-01", sort="-registered_patients", page=2)
    )
    second_page = row_codes(second.content.decode())
    assert len(first_page) == len(second_page) == 50 and not set(first_page) & set(second_page)
    assert "Page 2 of 5" in second.content.decode()


def test_invalid_filters_are_explained(member, study):
    html = member.get(
        frame_url(study, type="ccg", vintage="not-a-date", min_patients="-5")
    ).content.decode()
    assert "Check the filters" in html
    assert "Enter a valid date." in html


def test_an_impossible_vintage_suggests_the_right_one(member, study):
    html = member.get(frame_url(study, type="icb", vintage="2013-04-01")).content.decode()
    assert "0 organisations" in html
    assert "the first opened on 1 July 2022" in html


def test_rows_link_to_detail_pages(member, study):
    html = member.get(
        frame_url(study, type="ccg", vintage="2013-04-01", q="Darlington")
    ).content.decode()
    assert reverse("organisations:detail", args=[study.slug, "ccg", "00C"]) in html


def detail(client, study, org_type, code):
    return client.get(reverse("organisations:detail", args=[study.slug, org_type, code]))


def test_detail_shows_lineage_forward(member, study):
    html = detail(member, study, "ccg", "00C").content.decode()
    lineage = html[html.index('id="lineage"') :]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", lineage))
    assert "Merged into NHS Tees Valley CCG (16C) on 1 April 2020" in text
    assert "NHS North East and North Cumbria ICB (QHM) on 1 July 2022" in text
    assert reverse("organisations:detail", args=[study.slug, "icb", "QHM"]) in lineage
    assert "Darlington" in html and "100.0%" in html  # its HWB link


def test_detail_shows_predecessors(member, study):
    html = detail(member, study, "ccg", "13T").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[html.index('id="lineage"') :]))
    for name in (
        "NHS Gateshead CCG (00F)",
        "NHS Newcastle North and East CCG (00G)",
        "NHS Newcastle West CCG (00H)",
    ):
        assert f"{name} merged into this Clinical Commissioning Group on 1 April 2015" in text


def test_icb_detail_lists_its_sub_icb_locations(member, study):
    html = detail(member, study, "icb", "QHM").content.decode()
    assert "Sub-ICB locations" in html
    assert reverse("organisations:detail", args=[study.slug, "sub_icb", "16C"]) in html


def test_ccg_detail_counts_its_practices(member, study):
    assert "11 GP practices in Q1 2013/14" in detail(member, study, "ccg", "00C").content.decode()


def test_unknown_organisation_is_404(member, study):
    assert detail(member, study, "ccg", "ZZZ").status_code == 404


def test_non_members_get_404(client, study):
    outsider = get_user_model().objects.create_user("outsider", password="pw")
    client.force_login(outsider)
    assert client.get(frame_url(study)).status_code == 404
    assert detail(client, study, "ccg", "00C").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, study):
    response = client.get(frame_url(study))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_hwb_detail_lists_commissioners_with_shares(member, study):
    html = detail(member, study, "hwb", "E10000030").content.decode()
    assert "Commissioners covering this area" in html
    assert "NHS Surrey Heath CCG (10C)" in html and "8.5%" in html  # 10C holds 8.46% of Surrey


def test_practice_detail_says_its_dates_are_not_recorded(member, study):
    html = detail(member, study, "practice", "F82018").content.decode()
    assert "no dates recorded, so open as far as our records go" in html
    assert reverse("organisations:detail", args=[study.slug, "ccg", "07L"]) in html
