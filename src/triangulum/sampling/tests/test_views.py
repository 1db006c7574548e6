"""The samples pages, through the Django test client."""

import csv
import io
import math

import pytest
from django.urls import reverse

from triangulum.sampling import actions
from triangulum.sampling.models import Sample, SampleUnit
from triangulum.studies.models import Role

from .conftest import APRIL_2013, FRAME_SIZE, member

pytestmark = pytest.mark.django_db


def list_url(study):
    return reverse("sampling:list", args=[study.slug])


def draw_form(**changes):
    form = {
        "method": "stratified",
        "org_type": "ccg",
        "vintage": "2013-04-01",
        "region": "",
        "strata": "region",
        "allocation": "proportional",
        "attributes": "",
        "n": "6",
        "seed": "11",
        "name": "",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize("role", Role.values)
def test_every_role_sees_the_samples_but_only_lead_and_researchers_get_the_form(
    client, study, ccgs, role
):
    actions.draw_census(
        study=study, org_type="ccg", vintage=APRIL_2013, name="Wave 1 census", actor="test"
    )
    client.force_login(member(study, "someone", role))
    response = client.get(list_url(study))
    assert response.status_code == 200
    assert "Wave 1 census" in response.text
    has_form = "Draw a new sample" in response.text
    assert has_form == (role in (Role.LEAD, Role.RESEARCHER))
    if not has_form:
        assert client.post(list_url(study), draw_form()).status_code == 403
        assert Sample.objects.count() == 1


def test_non_members_and_anonymous_users_are_kept_out(client, study, ccgs, user):
    assert client.get(list_url(study)).status_code == 302
    client.force_login(user)
    assert client.get(list_url(study)).status_code == 404


def test_a_researcher_draws_a_stratified_sample_and_sees_its_units(client, study, ccgs):
    researcher = member(study, "rita", Role.RESEARCHER)
    client.force_login(researcher)
    response = client.post(list_url(study), draw_form(name="Wave 1 sample"))
    sample = Sample.objects.get(name="Wave 1 sample")
    assert response.status_code == 302
    assert response.url == reverse("sampling:detail", args=[study.slug, sample.pk])
    assert sample.created_by == researcher and sample.seed == 11
    page = client.get(response.url).text
    assert sample.inputs_hash in page
    assert "Stratified random sample" in page
    for unit in sample.units.select_related("organisation"):
        assert unit.organisation.name in page
    assert f"(the frame size is {FRAME_SIZE})" in page

    csv_response = client.get(response.url + "?format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    assert len(rows) == 6
    assert math.isclose(sum(float(row["base_weight"]) for row in rows), FRAME_SIZE)


def test_a_purposive_selection_shows_every_reason(client, study, ccgs):
    client.force_login(member(study, "lena", Role.LEAD))
    response = client.post(
        list_url(study),
        draw_form(
            method="purposive", attributes="region,registered_patients,allocation_per_head", n="5"
        ),
    )
    sample = Sample.objects.get()
    assert response.status_code == 302
    page = client.get(response.url).text
    assert "no selection probabilities" in page
    reasons = list(sample.units.values_list("reason", flat=True))
    assert len(reasons) == 5
    for reason in reasons:
        assert reason and reason.replace("'", "&#x27;") in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n": "500"}, "n_total=500 is larger than the frame, which has 26 units"),
        ({"seed": ""}, "needs a seed"),
        ({"vintage": "1990-01-01"}, "The frame is empty"),
        ({"method": "purposive", "attributes": "region,height"}, "Unknown attribute"),
    ],
)
def test_bad_parameters_are_shown_and_nothing_is_stored(client, study, ccgs, changes, message):
    client.force_login(member(study, "lena", Role.LEAD))
    response = client.post(list_url(study), draw_form(**changes))
    assert response.status_code == 400
    assert message in response.text
    assert not Sample.objects.exists() and not SampleUnit.objects.exists()


def test_a_sample_of_another_study_is_not_found(client, study, ccgs):
    from triangulum.studies.models import Study

    other = Study.objects.create(slug="other", title="Other study")
    sample = actions.draw_census(study=other, org_type="ccg", vintage=APRIL_2013, actor="test")
    client.force_login(member(study, "lena", Role.LEAD))
    url = reverse("sampling:detail", args=[study.slug, sample.pk])
    assert client.get(url).status_code == 404


def test_simulated_study_samples_are_labelled(client, study, ccgs):
    study.is_simulated = True
    study.save()
    sample = actions.draw_census(study=study, org_type="ccg", vintage=APRIL_2013, actor="test")
    assert sample.is_simulated
    client.force_login(member(study, "vic", Role.VIEWER))
    page = client.get(reverse("sampling:detail", args=[study.slug, sample.pk])).text
    assert "Simulated study" in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("sampling:detail", args=[study.slug, sample.pk]) + "?format=csv"
                ).content.decode()
            )
        )
    )
    assert {row["simulated"] for row in rows} == {"yes"}
