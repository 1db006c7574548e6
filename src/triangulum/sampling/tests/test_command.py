"""``triangulum sample``: draw, list and show from the command line."""

import csv
import io
import math

import pytest
from django.core.management import CommandError, call_command

from triangulum.audit.models import AuditEvent
from triangulum.sampling.models import Sample

from .conftest import FRAME_SIZE

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sample", *args, stdout=out)
    return out.getvalue()


def test_draw_list_and_show_a_stratified_sample(study, ccgs):
    output = run(
        "draw",
        "--study",
        study.slug,
        "--type",
        "ccg",
        "--open-on",
        "2013-04-01",
        "--method",
        "stratified",
        "--strata",
        "region",
        "--n",
        "8",
        "--seed",
        "1",
        "--name",
        "Wave 1 sample",
    )
    sample = Sample.objects.get(name="Wave 1 sample")
    assert f"Sample {sample.pk} 'Wave 1 sample': 8 of {FRAME_SIZE}" in output
    assert sample.seed == 1 and sample.parameters["allocation"] == "proportional"
    event = AuditEvent.objects.get(action="sampling.draw_stratified")
    assert event.actor_label.startswith("triangulum sample (as ")

    listing = run("list", "--study", study.slug)
    assert "Wave 1 sample" in listing and f"8 of {FRAME_SIZE}" in listing

    rows = list(csv.DictReader(io.StringIO(run("show", str(sample.pk), "--format", "csv"))))
    assert len(rows) == 8
    assert math.isclose(sum(float(row["base_weight"]) for row in rows), FRAME_SIZE)
    assert {row["inputs_hash"] for row in rows} == {sample.inputs_hash}
    assert {row["simulated"] for row in rows} == {"no"}
    text = run("show", str(sample.pk))
    assert "Seed:         1" in text and sample.inputs_hash in text


def test_draw_purposive_with_a_required_site_and_exclusions(study, ccgs):
    run(
        "draw",
        "--study",
        study.slug,
        "--type",
        "ccg",
        "--open-on",
        "2013-04-01",
        "--method",
        "census",
        "--name",
        "census",
    )
    census = Sample.objects.get(name="census")
    run(
        "draw",
        "--study",
        study.slug,
        "--type",
        "ccg",
        "--open-on",
        "2013-04-01",
        "--method",
        "purposive",
        "--n",
        "4",
        "--seed",
        "5",
        "--name",
        "pilot",
        "--attributes",
        "region,registered_patients",
        "--include",
        "02X=the site that asked to take part",
        "--exclude",
        "01X",
    )
    pilot = Sample.objects.get(name="pilot")
    first = pilot.units.get(selection_order=1)
    assert first.organisation.ods_code == "02X"
    assert "asked to take part" in first.reason
    assert not pilot.units.filter(organisation__ods_code="01X").exists()
    text = run("show", str(pilot.pk))
    assert "Chosen by the researcher" in text
    assert census.units.count() == FRAME_SIZE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "stratified", "--n", "5"], "--seed is required for a stratified sample"),
        (["--method", "purposive", "--seed", "1"], "--n is required for a purposive selection"),
        (
            ["--method", "stratified", "--n", "500", "--seed", "1"],
            "n_total=500 is larger than the frame, which has 26 units",
        ),
        (
            [
                "--method",
                "stratified",
                "--n-per-stratum",
                "London=9,North of England=2,Midlands and East of England=2,South of England=2",
                "--allocation",
                "fixed",
                "--seed",
                "1",
            ],
            "Stratum 'London' has 4 unit",
        ),
    ],
)
def test_bad_draws_are_refused_with_the_reason(study, ccgs, args, message):
    with pytest.raises(CommandError, match=message):
        run("draw", "--study", study.slug, "--type", "ccg", "--open-on", "2013-04-01", *args)
    assert not Sample.objects.exists()


def test_unknown_study_and_sample_are_named(study):
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        run("list", "--study", "nope")
    with pytest.raises(CommandError, match="No sample with id 999"):
        run("show", "999")
