"""Acceptance: on the demo's simulated waves the true shares lie in the 95% intervals.

Builds the demo up to and including this app's step (organisations → studies →
sampling → fieldwork → analysis) inside a transaction rolled back at the end. Fails if
estimation or simulation drifts.
"""

from __future__ import annotations

import pytest

from triangulum.analysis import demo as analysis_demo
from triangulum.analysis.models import AnalysisRun
from triangulum.organisations.models import Organisation
from triangulum.testing import demo_in_test_database

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with demo_in_test_database(
        django_db_blocker, folder, until=analysis_demo.STEPS[-1].name
    ) as context:
        yield context


def _indicator(name: str) -> str:
    """The simulation's "item=value" / "item in (a, b)" as the estimate step's "item=a,b"."""
    if " in (" in name:
        item, values = name.split(" in (", 1)
        return f"{item.strip()}={','.join(v.strip() for v in values.rstrip(')').split(','))}"
    return name


def test_true_shares_fall_inside_the_95_percent_intervals(ctx):
    truth = ctx.shared["simulation_truth"]
    assert truth["simulated"] is True
    targets = truth["true_values"]  # {"item=value": {"1": share, "2": share}}
    run = AnalysisRun.objects.get(study=ctx.shared["study"], step="estimates")
    rows = run.results.get(name="headline_estimates").data
    checked = 0
    for name, by_wave in targets.items():
        for wave, true_share in by_wave.items():
            # The truth counts every member asked (don't know in the denominator), and
            # describes the process: the interval without the finite population correction.
            row = next(
                r
                for r in rows
                if r["indicator"] == _indicator(name)
                and r["wave"] == int(wave)
                and r["denominator"] == "everyone asked"
                and "no fpc" in r["population"]
            )
            assert row["ci_low"] <= true_share <= row["ci_high"], (name, wave, row)
            checked += 1
    assert checked >= 8
    # The published headline: 33% in 2014 and 54% in 2016 said the vision is set equally.
    assert targets["vision_set=equally"] == {"1": 0.33, "2": 0.54}


def test_demo_analysis_is_stored_written_and_labelled(ctx):
    study = ctx.shared["study"]
    runs = AnalysisRun.objects.filter(study=study)
    assert runs.count() >= 9 and not runs.exclude(error="").exists()
    assert all(r.is_simulated for r in runs)
    typology = runs.get(step="typology")
    stability = typology.results.get(name="typology_stability").data[0]
    assert 0 <= stability["mean_ari"] <= 1
    key = f"typology_class_{study.slug}"
    membership = typology.results.get(name="typology_membership").data
    assert Organisation.objects.filter(attributes__has_key=key).count() == len(membership)
    folder = ctx.outputs / "analysis"
    files = sorted(p.name for p in folder.iterdir())
    assert files and all(name.startswith("simulated_") for name in files)
    assert any(name.endswith(".svg") for name in files)
