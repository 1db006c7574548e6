import pytest

from triangulum.sampling import actions
from triangulum.sampling.designs import DesignError
from triangulum.sampling.models import Sample
from triangulum.studies.models import Phase, Study
from triangulum.studies.queries import phase_contents

from .conftest import APRIL_2013, FRAME_SIZE


@pytest.fixture
def phases(study):
    pilot = Phase.objects.create(
        study=study, order=1, kind=Phase.Kind.PILOT_CASE_STUDIES, name="Pilot"
    )
    wave = Phase.objects.create(
        study=study, order=2, kind=Phase.Kind.NATIONAL_SURVEY_WAVE, name="Wave 1"
    )
    return pilot, wave


def test_the_study_home_lists_each_sample_under_its_phase(study, ccgs, user, phases):
    pilot, wave = phases
    census = actions.draw_census(
        study=study, org_type="ccg", vintage=APRIL_2013, actor=user, phase=wave
    )
    actions.select_purposive(
        study=study,
        org_type="ccg",
        vintage=APRIL_2013,
        n=3,
        seed=1,
        actor=user,
        phase=pilot,
        name="Pilot sites",
    )
    actions.draw_stratified(
        study=study,
        org_type="ccg",
        vintage=APRIL_2013,
        n_total=8,
        seed=1,
        actor=user,
        name="Unattached",
    )
    contents = phase_contents(study)
    assert [label for label, _ in contents[pilot.pk]] == [f"Pilot sites (3 of {FRAME_SIZE})"]
    [(label, url)] = contents[wave.pk]
    assert label.startswith(census.name) and url.endswith(f"/samples/{census.pk}/")


def test_a_phase_of_another_study_is_refused_and_nothing_is_stored(study, ccgs, user, phases):
    other = Study.objects.create(slug="other", title="Other")
    foreign = Phase.objects.create(study=other, order=1, kind=Phase.Kind.INTEGRATION, name="X")
    with pytest.raises(DesignError, match="another study"):
        actions.draw_census(
            study=study, org_type="ccg", vintage=APRIL_2013, actor=user, phase=foreign
        )
    assert not Sample.objects.exists()
