"""Linked cases, the mixed-methods matrix, quantitized codes and the QCA of the sites, on
the demo built in the test database (organisations → … → casework → analysis), inside a
transaction rolled back at the end."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from triangulum.analysis import demo as analysis_demo
from triangulum.analysis.models import AnalysisResult
from triangulum.audit.models import AuditEvent
from triangulum.casework.models import (
    Case,
    Code,
    Coding,
    FrameworkCell,
    ReliabilityAssignment,
    Source,
)
from triangulum.casework.queries import descendant_ids
from triangulum.fieldwork.models import Interview
from triangulum.integration import actions_qca, cases, qca_sites
from triangulum.integration.models import QcaRun
from triangulum.testing import demo_in_test_database, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    shared_path("data", "nhs")
    folder = tmp_path_factory.mktemp("cases-demo")
    with demo_in_test_database(
        django_db_blocker, folder, until=analysis_demo.STEPS[-1].name
    ) as context:
        yield context


@pytest.fixture
def study(demo):
    return demo.shared["study"]


def _latest_rows(study, name: str) -> list[dict]:
    result = (
        AnalysisResult.objects.filter(run__study=study, name=name)
        .order_by("-run__started_at")
        .first()
    )
    assert result is not None, f"the demo's analysis has no {name}"
    return result.data


def test_every_case_study_site_is_a_ccg_of_the_frame(study, demo):
    linked = cases.linked_cases(study, "site")
    samples = demo.shared["samples"]
    sites = set(samples["pilot_sites"].units.values_list("organisation_id", flat=True)) | set(
        samples["in_depth_sites"].units.values_list("organisation_id", flat=True)
    )
    assert {lc.organisation.pk for lc in linked} == sites
    assert all(lc.organisation.org_type == "ccg" for lc in linked)
    assert {lc.site_type for lc in linked} == {"pilot", "in-depth"}
    initiatives = cases.linked_cases(study, "initiative")
    assert initiatives and all(
        lc.organisation == lc.case.initiative.lead_organisation for lc in initiatives
    )
    with pytest.raises(ValueError, match="case kind"):
        cases.linked_cases(study, "participant")


def test_survey_evidence_counts_each_wave_by_role_and_matches_the_analysis(study):
    linked = cases.linked_cases(study, "site")
    summaries = cases.survey_summaries(study, [lc.organisation for lc in linked])
    answers = {
        number: {
            row["organisation_code"]: row
            for row in _latest_rows(study, f"wave{number}_organisation_answers")
        }
        for number in (1, 2)
    }
    typology = {
        row["organisation_code"]: row["typology_class"]
        for row in _latest_rows(study, "typology_membership")
    }
    for lc in linked:
        org = lc.organisation
        waves = summaries[org.pk]
        assert [w.number for w in waves] == [1, 2]
        for wave in waves:
            interviews = Interview.objects.filter(wave=wave.wave, participant__organisation=org)
            assert wave.asked == interviews.count()
            assert wave.responded == interviews.filter(status="complete").count()
            assert sum(r.asked for r in wave.roles) == wave.asked
            assert sum(r.responded for r in wave.roles) == wave.responded
            # The combined answers are the analysis's own (lower median of members).
            stored = answers[wave.number][org.ods_code]
            assert stored["members_responding"] == wave.responded
            compared = 0
            for name, item in wave.items.items():
                if name in stored:
                    assert item.combined == stored[name], (org.ods_code, wave.number, name)
                    compared += 1
            assert compared >= 30
        assert cases.typology_class(study, org) == typology.get(org.ods_code)


def test_case_study_evidence_holds_the_sites_sources_codings_and_summaries(study):
    lc = next(lc for lc in cases.linked_cases(study, "site") if lc.site_type == "in-depth")
    evidence = cases.case_study_evidence(lc)
    sources = Source.objects.filter(study=study, site=lc.organisation)
    assert {s.source_id for s in evidence.sources} == set(sources.values_list("id", flat=True))
    assert evidence.characters == sum(len(s.text) for s in sources)
    codings = Coding.objects.filter(source__in=sources)
    assert evidence.codings == codings.count()
    for row in evidence.codes:
        assert set(row.coding_ids) == set(
            codings.filter(code=row.code).values_list("id", flat=True)
        )
    cells = FrameworkCell.objects.filter(case=lc.case).exclude(summary="")
    assert {(f.matrix_id, f.code_id) for f in evidence.framework} == {
        (c.matrix_id, c.code_id) for c in cells
    }
    assert evidence.framework


def _union(spans):
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    return len(covered)


def test_quantitized_counts_shares_and_presence_follow_the_codings(study):
    count = cases.quantitized_matrix(study, measure="count", include_subcodes=True)
    share = cases.quantitized_matrix(study, measure="share", include_subcodes=True)
    presence = cases.quantitized_matrix(study, measure="presence", min_count=2)
    assert count.codes == share.codes and len(count.codes) > 20
    parent = Code.objects.get(study=study, name="RQ4 Enablers and blockers")
    family = descendant_ids(study, [parent.pk])[parent.pk]
    with_parent = cases.quantitized_matrix(study, codes=[parent], measure="count")
    checked = 0
    for lc in count.cases:
        sources = Source.objects.filter(study=study, site=lc.organisation)
        length = sum(len(s.text) for s in sources)
        assert count.text_lengths[lc.id] == length
        for code in count.codes[:8]:
            mine = Coding.objects.filter(source__in=sources, code=code)
            assert count.matrix.value(lc.id, code.pk) == mine.count()
            assert set(count.cell(lc.id, code.pk).coding_ids) == set(
                mine.values_list("id", flat=True)
            )
            covered = sum(
                _union(mine.filter(source=s).values_list("start", "end")) for s in sources
            )
            assert share.matrix.value(lc.id, code.pk) == pytest.approx(covered / length)
            assert presence.matrix.value(lc.id, code.pk) == (1 if mine.count() >= 2 else 0)
            checked += 1
        # A parent code counts its sub-codes' codings.
        assert (
            with_parent.matrix.value(lc.id, parent.pk)
            == Coding.objects.filter(source__in=sources, code_id__in=family).count()
        )
    assert checked == 8 * len(count.cases)


def test_blind_coding_hides_the_other_coders_codings_from_a_coder(study):
    assignment = ReliabilityAssignment.objects.filter(study=study, blind=True).first()
    researcher = assignment.coders.get(username="researcher")
    everyone = cases.quantitized_matrix(study, measure="count")
    theirs = cases.quantitized_matrix(study, measure="count", visible_to=researcher)
    total = sum(v for v in everyone.matrix.values.values())
    seen = sum(v for v in theirs.matrix.values.values())
    hidden = Coding.objects.filter(
        source__reliability_assignments__in=ReliabilityAssignment.objects.filter(
            study=study, blind=True, coders=researcher
        ),
        code__in=everyone.codes,
    ).exclude(coder=researcher)
    assert hidden.exists()
    assert total - seen == hidden.count()


def test_the_mixed_methods_matrix_sets_survey_values_beside_framework_summaries(study):
    cell = (
        FrameworkCell.objects.filter(matrix__study=study, case__kind="site")
        .exclude(summary="")
        .first()
    )
    keys = [
        "typology",
        "w1:respondents",
        "w2:prop_alliance",
        "w1:clinical_centrality:share",
        f"fw:{cell.matrix_id}:{cell.code_id}",
    ]
    matrix = cases.mixed_matrix(study, kind="site", keys=keys)
    assert [c.key for c in matrix.columns] == keys
    row = next(r for r in matrix.rows if r.linked.id == cell.case_id)
    org = row.linked.organisation
    summaries = cases.survey_summaries(study, [org])[org.pk]
    assert row.cells[0].value == cases.typology_class(study, org)
    assert row.cells[1].value == summaries[0].responded
    assert row.cells[2].value == summaries[1].items["prop_alliance"].combined
    item = summaries[0].items["clinical_centrality"]
    assert row.cells[3].value == pytest.approx(item.agreeing / item.valid)
    assert row.cells[4].text == cell.summary  # no names in the demo's summaries
    header, body = matrix.table()
    assert header == ["case", "organisation_code", *keys]
    assert len(body) == len(matrix.rows)
    with pytest.raises(ValueError, match="unknown column"):
        cases.mixed_matrix(study, keys=["w9:nothing"])


def test_the_cross_tabulation_counts_sites_by_typology_and_code_presence(study):
    code = Code.objects.get(study=study, name="Clinician–manager alliance")
    result = cases.crosstab(study, code=code, variable_key="typology")
    presence = cases.quantitized_matrix(study, codes=[code], measure="presence")
    table = result.table
    assert table.total + len(table.missing) == len(presence.cases)
    for lc in presence.cases:
        klass = cases.typology_class(study, lc.organisation)
        coded = presence.matrix.value(lc.id, code.pk)
        assert lc.id in table.cases[(klass, coded)]
    with pytest.raises(ValueError, match="not a categorical survey variable"):
        cases.crosstab(study, code=code, variable_key="w1:respondents")


def test_the_demo_qca_stores_two_simulated_runs_with_one_audit_event_each(study, tmp_path):
    before = AuditEvent.objects.filter(action="integration.qca_run").count()
    runs = qca_sites.demo_qca(study)
    assert [r.set_type for r in runs] == ["crisp", "fuzzy"]
    assert AuditEvent.objects.filter(action="integration.qca_run").count() == before + 2
    sites = len(cases.linked_cases(study, "site"))
    for run in runs:
        assert run.is_simulated and run.name.startswith("Simulated")
        assert len(run.memberships) + len({e["case"] for e in run.calibration["excluded"]}) == sites
        assert set(run.results["solutions"]) == {"complex", "parsimonious"}
        assert run.calibration["sets"][run.outcome]["source"] == "survey_share"
        assert len(run.inputs_hash) == 64
        # The stored memberships read back into the command give the stored solutions.
        path = tmp_path / f"run-{run.pk}.csv"
        path.write_text(
            qca_sites.memberships_csv(
                run.memberships, columns=[*run.conditions, run.outcome], simulated=True
            ),
            encoding="utf-8",
        )
        out = StringIO()
        call_command(
            "qca",
            str(path),
            "--outcome",
            run.outcome,
            "--conditions",
            ",".join(run.conditions),
            "--incl-cut",
            str(run.parameters["incl_cut"]),
            "--remainders",
            "include",
            "--json",
            stdout=out,
        )
        assert json.loads(out.getvalue())["solutions"] == run.results["solutions"]["parsimonious"]
    fuzzy = runs[1]
    memberships = [row["ALLIANCE"] for row in fuzzy.memberships]
    assert any(0 < m < 1 and m not in (0.0, 1.0) for m in memberships)
    # A site whose text never mentions the alliance is fully out: fsQCA's 0.047.
    raw = fuzzy.calibration["raw"]["ALLIANCE"]
    uncoded = next(case for case, value in raw.items() if value == 0)
    row = next(r for r in fuzzy.memberships if r["case"] == uncoded)
    assert round(row["ALLIANCE"], 3) == 0.047


def test_a_bad_calibration_stores_nothing_and_says_which_set(study):
    runs, events = QcaRun.objects.count(), AuditEvent.objects.count()
    base = dict(
        study=study,
        name="Bad",
        unit="site",
        set_type="fuzzy",
        outcome="Y",
        conditions=["A"],
        incl_cut=0.8,
        n_cut=1,
        remainders="both",
        actor="test",
    )
    with pytest.raises(actions_qca.QcaRunError, match="set A, item: 'no_such_item'"):
        actions_qca.run_qca(
            **base,
            calibration={
                "A": {
                    "source": "survey_answer",
                    "wave": 1,
                    "item": "no_such_item",
                    "method": "members",
                    "members": ["x"],
                },
                "Y": {"source": "typology", "method": "members", "members": [1]},
            },
        )
    with pytest.raises(actions_qca.QcaRunError, match="set A, code: 999999"):
        actions_qca.run_qca(
            **base,
            calibration={
                "A": {
                    "source": "code_count",
                    "code": 999999,
                    "method": "threshold",
                    "threshold": 1,
                },
                "Y": {"source": "typology", "method": "members", "members": [1]},
            },
        )
    with pytest.raises(actions_qca.QcaRunError, match="agree_a_lot not an answer"):
        actions_qca.run_qca(
            **base,
            calibration={
                "A": {
                    "source": "survey_share",
                    "wave": 2,
                    "item": "prop_alliance",
                    "categories": ["agree_a_lot"],
                    "method": "direct",
                    "anchors": [0.2, 0.5, 0.8],
                },
                "Y": {"source": "typology", "method": "members", "members": [1]},
            },
        )
    with pytest.raises(actions_qca.QcaRunError, match="incl_cut"):
        actions_qca.run_qca(**{**base, "incl_cut": 1.5}, calibration={})
    assert QcaRun.objects.count() == runs and AuditEvent.objects.count() == events


def test_qca_of_initiatives_uses_their_lead_organisation(study):
    code = Code.objects.get(study=study, name="Integration across boundaries")
    run = actions_qca.run_qca(
        study=study,
        name="Initiatives",
        unit="initiative",
        set_type="crisp",
        outcome="TYPE1",
        conditions=["INTEGRATION"],
        calibration={
            "TYPE1": {"source": "typology", "method": "members", "members": [1]},
            "INTEGRATION": {
                "source": "code_count",
                "code": code.pk,
                "method": "threshold",
                "threshold": 1,
            },
        },
        incl_cut=0.8,
        n_cut=1,
        remainders="exclude",
        actor="test",
    )
    initiatives = Case.objects.filter(study=study, kind="initiative")
    assert len(run.memberships) + len(run.calibration["excluded"]) == initiatives.count()
    for row in run.memberships:
        case = initiatives.get(name=row["case"])
        klass = cases.typology_class(study, case.initiative.lead_organisation)
        assert row["TYPE1"] == (1.0 if klass == 1 else 0.0)
