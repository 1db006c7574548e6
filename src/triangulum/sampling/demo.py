"""The demo's samples: the wave-1 census, the pilot and in-depth sites, and a stratified
illustration, all drawn from the real 211 CCGs of 1 April 2013 with the demo's seed."""

import datetime

from triangulum.core.demo_registry import DemoContext, DemoStep
from triangulum.studies.models import Phase

from . import actions
from .queries import sample_csv

ACTOR = "triangulum demo"
WAVE1_VINTAGE = datetime.date(2013, 4, 1)
VARIED_ATTRIBUTES = ("region", "registered_patients", "allocation_per_head")


def run(ctx: DemoContext) -> None:
    study = ctx.shared["study"]
    phases = {phase.kind: phase for phase in study.phases.all()}
    frame = {"study": study, "org_type": "ccg", "vintage": WAVE1_VINTAGE, "actor": ACTOR}
    samples = {
        "wave1_census": actions.draw_census(
            **frame,
            name="Wave 1: census of the CCGs open on 1 April 2013",
            phase=phases.get(Phase.Kind.NATIONAL_SURVEY_WAVE),
        )
    }
    samples["pilot_sites"] = actions.select_purposive(
        **frame,
        n=15,
        seed=ctx.seed,
        attributes=VARIED_ATTRIBUTES,
        name="Pilot (scoping) sites: 15 CCGs of maximum variation",
        phase=phases.get(Phase.Kind.PILOT_CASE_STUDIES),
    )
    samples["in_depth_sites"] = actions.select_purposive(
        **frame,
        n=6,
        seed=ctx.seed,
        attributes=VARIED_ATTRIBUTES,
        exclude_samples=[samples["pilot_sites"]],
        name="In-depth case-study sites: 6 CCGs of maximum variation, not piloted",
        phase=phases.get(Phase.Kind.IN_DEPTH_CASE_STUDIES),
    )
    samples["stratified_by_region"] = actions.draw_stratified(
        **frame,
        n_total=40,
        strata="region",
        allocation="proportional",
        seed=ctx.seed,
        name="Illustration: 40 CCGs stratified by region (proportional)",
    )
    ctx.shared["samples"] = samples
    for key, sample in samples.items():
        path = ctx.outputs / f"sample_{key}.csv"
        path.write_text(sample_csv(sample), encoding="utf-8")
        ctx.record(
            f"{sample.name} ({sample.units.count()} of {sample.frame_size}; seed "
            f"{'none' if sample.seed is None else sample.seed})",
            path,
        )


STEPS = [DemoStep("Draw the study's samples", run)]
