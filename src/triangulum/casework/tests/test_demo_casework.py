"""The demo's case-study step, run after the organisations, studies and sampling steps."""

import json

import pytest

from triangulum.casework import demo as casework_demo
from triangulum.casework import simulation
from triangulum.casework.framework import case_segments, matrix_cases, matrix_codes
from triangulum.casework.models import (
    Case,
    Coding,
    FrameworkCell,
    Initiative,
    PseudonymCandidate,
    ReliabilityAssignment,
)
from triangulum.core.demo_registry import DemoContext
from triangulum.organisations import demo as organisations_demo
from triangulum.sampling import demo as sampling_demo
from triangulum.studies import demo as studies_demo
from triangulum.testing import shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]


@pytest.fixture
def demo_ctx(tmp_path, settings):
    shared_path("data", "nhs")
    ctx = DemoContext(directory=tmp_path, outputs=tmp_path / "outputs")
    organisations_demo.run(ctx)
    studies_demo.run_install(ctx)
    sampling_demo.run(ctx)
    casework_demo.run(ctx)
    return ctx


def test_demo_case_studies(demo_ctx):
    ctx = demo_ctx
    study = ctx.shared["study"]
    samples = ctx.shared["samples"]
    pilot = set(samples["pilot_sites"].units.values_list("organisation_id", flat=True))
    in_depth = set(samples["in_depth_sites"].units.values_list("organisation_id", flat=True))
    sources = list(study.sources.all())
    # Every source is simulated and says so on its first line.
    assert sources and all(s.is_simulated for s in sources)
    assert all(s.text.split("\n", 1)[0] == simulation.SIMULATED_BANNER for s in sources)
    assert {s.site_id for s in sources} == pilot | in_depth
    assert {s.kind for s in sources if s.site_id in in_depth} == {
        "interview",
        "group_interview",
        "observation_notes",
        "document",
    }
    assert {s.kind for s in sources if s.site_id in pilot} == {"interview"}
    # Speaker turns are linked to the simulated participants.
    source = next(s for s in sources if s.kind == "group_interview")
    linked = source.turns.exclude(participant=None)
    assert linked.count() >= 4 and all(t.participant.is_simulated for t in linked)

    # Two coders who partly disagree.
    coders = set(
        Coding.objects.filter(source__study=study).values_list("coder__username", flat=True)
    )
    assert coders == {"coder", "researcher"}
    agreement = json.loads((ctx.outputs / "casework_agreement.json").read_text(encoding="utf-8"))
    overall = agreement["overall"]
    # Partly disagree: kappa over all text and alpha well above chance, well below 1.
    assert 0.3 < overall["characters_all_text"]["kappa"] < 0.95, overall
    assert 0.3 < overall["alpha"] < 0.95, overall
    assert ReliabilityAssignment.objects.filter(study=study, blind=True).count() == 4

    # Two initiatives per in-depth site, each a case that can be a matrix row.
    initiatives = list(Initiative.objects.filter(study=study))
    assert len(initiatives) == 12
    assert {i.lead_organisation_id for i in initiatives} == in_depth
    assert all(i.leaders.exists() and i.sources.exists() and i.is_simulated for i in initiatives)
    assert Case.objects.filter(study=study, kind="initiative").count() == 12
    matrix = next(m for m in ctx.shared["casework"]["matrices"] if m.case_kind == "initiative")
    assert len(matrix_cases(matrix)) == 12
    opened = [
        case_segments(case, code) for case in matrix_cases(matrix) for code in matrix_codes(matrix)
    ]
    assert sum(1 for segments in opened if segments) >= 12
    # Partly charted: some cells have summaries linked to segments, most are empty.
    cells = FrameworkCell.objects.filter(matrix__study=study).exclude(summary="")
    assert cells.exists() and all(c.segments.exists() for c in cells)

    # The pseudonymisation scan ran; people's names in the texts were accepted and replaced.
    assert PseudonymCandidate.objects.filter(source__study=study, kind="participant").exists()
    assert (ctx.outputs / "casework_codebook.csv").read_text(encoding="utf-8").startswith("path")
    assert (ctx.outputs / "casework_anonymised.zip").exists()

    # Running the step again leaves the material as it was.
    count = Coding.objects.filter(source__study=study).count()
    casework_demo.run(ctx)
    assert Coding.objects.filter(source__study=study).count() == count
