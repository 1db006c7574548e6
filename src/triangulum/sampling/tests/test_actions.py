"""Drawing samples through the actions, against the database."""

import datetime
import math

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.core.hashing import sha256_json
from triangulum.organisations.models import Organisation
from triangulum.sampling import actions
from triangulum.sampling.designs import DesignError
from triangulum.sampling.models import Sample, SampleUnit

from .conftest import APRIL_2013, FRAME_SIZE, REGIONS

pytestmark = pytest.mark.django_db


def unit_tuples(sample):
    return list(
        sample.units.order_by("selection_order").values_list(
            "organisation__ods_code",
            "stratum",
            "inclusion_probability",
            "base_weight",
            "selection_order",
        )
    )


def test_census_holds_the_frame_at_its_vintage_and_is_audited(study, ccgs, user):
    sample = actions.draw_census(study=study, org_type="ccg", vintage=APRIL_2013, actor=user)
    codes = set(sample.units.values_list("organisation__ods_code", flat=True))
    assert codes == set(ccgs.values_list("ods_code", flat=True))
    assert "LATE" not in codes and "GONE" not in codes
    assert sample.frame_size == FRAME_SIZE
    assert set(sample.units.values_list("inclusion_probability", "base_weight")) == {(1.0, 1.0)}
    assert sample.seed is None and sample.created_by == user
    assert sample.inputs_hash == sha256_json(
        {
            "frame": sorted(codes),
            "method": "census",
            "parameters": {"frame": {"org_type": "ccg", "vintage": "2013-04-01", "region": None}},
            "seed": None,
        }
    )
    event = AuditEvent.objects.get(action="sampling.draw_census")
    assert event.study_id == study.id and event.object_id == str(sample.pk)
    assert sorted(event.after["units"]) == sorted(codes)


def test_a_stratified_sample_drawn_twice_with_one_seed_is_identical(study, ccgs, user):
    """The acceptance point: same seed, same sample; base weights sum to the frame size."""
    options = {
        "study": study,
        "org_type": "ccg",
        "vintage": APRIL_2013,
        "n_total": 10,
        "strata": "region",
        "seed": 42,
        "actor": user,
    }
    first = actions.draw_stratified(**options, name="first")
    second = actions.draw_stratified(**options, name="second")
    assert unit_tuples(first) == unit_tuples(second)
    assert first.inputs_hash == second.inputs_hash
    weights = list(first.units.values_list("base_weight", flat=True))
    assert math.isclose(sum(weights), first.frame_size, rel_tol=1e-12)
    assert first.frame_size == FRAME_SIZE
    # Proportional by largest remainder: quotas 3.46, 2.69, 1.54, 2.31 → 3, 3, 2, 2.
    table = {row["stratum"]: row["sample_size"] for row in first.parameters["allocation_table"]}
    assert table == {
        "North of England": 3,
        "Midlands and East of England": 3,
        "London": 2,
        "South of England": 2,
    }
    for unit in first.units.select_related("organisation"):
        assert unit.stratum == unit.organisation.region_name
        population = next(n for _, name, n in REGIONS if name == unit.stratum)
        assert math.isclose(unit.inclusion_probability, table[unit.stratum] / population)
    other_seed = actions.draw_stratified(**{**options, "seed": 43}, name="third")
    assert unit_tuples(other_seed) != unit_tuples(first)
    assert other_seed.inputs_hash != first.inputs_hash


def test_stratified_sample_can_be_limited_to_one_region(study, ccgs, user):
    sample = actions.draw_stratified(
        study=study,
        org_type="ccg",
        vintage=APRIL_2013,
        region="London",
        n_total=2,
        seed=1,
        actor=user,
    )
    assert sample.frame_size == 4
    assert set(sample.units.values_list("stratum", flat=True)) == {"London"}


def nothing_stored():
    return (
        Sample.objects.count(),
        SampleUnit.objects.count(),
        AuditEvent.objects.filter(action__startswith="sampling.").count(),
    ) == (0, 0, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s, u: actions.draw_stratified(
                study=s,
                org_type="ccg",
                vintage=APRIL_2013,
                n_per_stratum=5,
                allocation="equal",
                seed=1,
                actor=u,
            ),
            "Stratum 'London' has 4 unit\\(s\\), so 5 cannot be drawn",
        ),
        (
            lambda s, u: actions.draw_stratified(
                study=s,
                org_type="ccg",
                vintage=APRIL_2013,
                n_total=5,
                allocation="neyman",
                seed=1,
                actor=u,
            ),
            "Unknown allocation 'neyman'",
        ),
        (
            lambda s, u: actions.draw_stratified(
                study=s,
                org_type="ccg",
                vintage=APRIL_2013,
                n_total=5,
                strata="colour",
                seed=1,
                actor=u,
            ),
            "Unknown stratifier 'colour'",
        ),
        (
            lambda s, u: actions.draw_census(
                study=s, org_type="ccg", vintage=datetime.date(1999, 1, 1), actor=u
            ),
            "The frame is empty: there are no ccg organisations open on 1999-01-01",
        ),
        (
            lambda s, u: actions.draw_census(study=s, org_type="pct", actor=u),
            "Unknown organisation type 'pct'",
        ),
        (
            lambda s, u: actions.select_purposive(
                study=s,
                org_type="ccg",
                vintage=APRIL_2013,
                n=3,
                seed=1,
                attributes=["region", "shoe_size"],
                actor=u,
            ),
            "Unknown attribute 'shoe_size'",
        ),
        (
            lambda s, u: actions.select_purposive(
                study=s, org_type="ccg", vintage=APRIL_2013, n=30, seed=1, actor=u
            ),
            "n=30 is larger than the 26 units",
        ),
        (
            lambda s, u: actions.select_purposive(
                study=s,
                org_type="ccg",
                vintage=APRIL_2013,
                n=3,
                seed=1,
                must_include={"LATE": "keen"},
                actor=u,
            ),
            "'LATE' must be included but is not in the frame",
        ),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_stored(study, ccgs, user, call, message):
    with pytest.raises(DesignError, match=message):
        call(study, user)
    assert nothing_stored()


def test_a_name_already_used_in_the_study_is_refused(study, ccgs, user):
    actions.draw_census(study=study, org_type="ccg", vintage=APRIL_2013, name="Wave 1", actor=user)
    with pytest.raises(DesignError, match="already has a sample named 'Wave 1'"):
        actions.draw_stratified(
            study=study,
            org_type="ccg",
            vintage=APRIL_2013,
            n_total=4,
            seed=1,
            name="Wave 1",
            actor=user,
        )
    assert Sample.objects.count() == 1
    assert SampleUnit.objects.count() == FRAME_SIZE


def test_purposive_sites_each_have_a_reason_and_later_sites_avoid_earlier_ones(study, ccgs, user):
    pilot = actions.select_purposive(
        study=study,
        org_type="ccg",
        vintage=APRIL_2013,
        n=6,
        seed=2013,
        actor=user,
        must_include={"03X": "the team's own CCG, where access is agreed"},
        name="pilot",
    )
    units = list(pilot.units.select_related("organisation").order_by("selection_order"))
    assert len(units) == 6 and all(unit.reason.strip() for unit in units)
    assert units[0].organisation.ods_code == "03X"
    assert "Chosen by the researcher: the team's own CCG" in units[0].reason
    assert all(u.inclusion_probability is None and u.base_weight is None for u in units)
    # Four regions, six sites: every region is covered.
    assert {u.organisation.region_name for u in units} == {name for _, name, _ in REGIONS}
    in_depth = actions.select_purposive(
        study=study,
        org_type="ccg",
        vintage=APRIL_2013,
        n=4,
        seed=2013,
        actor=user,
        exclude_samples=[pilot],
        name="in depth",
    )
    pilot_codes = {u.organisation.ods_code for u in units}
    in_depth_codes = set(in_depth.units.values_list("organisation__ods_code", flat=True))
    assert len(in_depth_codes) == 4 and not in_depth_codes & pilot_codes
    assert sorted(in_depth.parameters["exclude"]) == sorted(pilot_codes)
    assert in_depth.frame_size == FRAME_SIZE


def test_delete_sample_removes_it_and_keeps_its_units_in_the_audit_trail(study, ccgs, user):
    sample = actions.draw_stratified(
        study=study, org_type="ccg", vintage=APRIL_2013, n_total=5, seed=3, actor=user
    )
    codes = list(
        sample.units.order_by("selection_order").values_list("organisation__ods_code", flat=True)
    )
    actions.delete_sample(sample=sample, actor=user)
    assert not Sample.objects.exists() and not SampleUnit.objects.exists()
    event = AuditEvent.objects.get(action="sampling.delete_sample")
    assert event.before["units"] == codes and event.study_id == study.id
    assert Organisation.objects.filter(ods_code__in=codes).count() == 5


def test_database_refuses_a_probability_above_one(study, ccgs, user):
    from django.db import IntegrityError, transaction

    sample = actions.draw_census(study=study, org_type="ccg", vintage=APRIL_2013, actor=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        sample.units.filter(selection_order=1).update(inclusion_probability=1.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        sample.units.filter(selection_order=1).update(base_weight=0.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        sample.units.filter(selection_order=1).update(base_weight=None)


def test_the_real_frame_of_211_ccgs(study, user):
    """Integration with the organisations loader and the real April 2013 CCGs."""
    try:
        from triangulum.organisations.actions import load_nhs_organisations
    except ImportError:
        pytest.skip("the organisations loader is not available")
    load_nhs_organisations(actor="test")
    census = actions.draw_census(study=study, org_type="ccg", vintage=APRIL_2013, actor=user)
    assert census.frame_size == census.units.count() == 211
    options = {
        "study": study,
        "org_type": "ccg",
        "vintage": APRIL_2013,
        "n_total": 40,
        "seed": 2013,
        "actor": user,
    }
    first = actions.draw_stratified(**options, name="a")
    second = actions.draw_stratified(**options, name="b")
    assert unit_tuples(first) == unit_tuples(second)
    assert math.isclose(sum(w for *_, w, _ in unit_tuples(first)), 211, rel_tol=1e-12)
    # 40 of 211 by largest remainder over regions of 68, 61, 50 and 32 CCGs.
    sizes = sorted(row["sample_size"] for row in first.parameters["allocation_table"])
    assert sizes == [6, 9, 12, 13]
    sites = actions.select_purposive(
        study=study, org_type="ccg", vintage=APRIL_2013, n=15, seed=2013, actor=user, name="pilot"
    )
    reasons = list(sites.units.values_list("reason", flat=True))
    assert len(reasons) == 15 and all("registered patients" in r for r in reasons)
    assert sum("not yet covered" in r for r in reasons) == 4  # one first visit per region
