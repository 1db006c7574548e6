"""Hand-made ``Evidence`` bundles for the pure tests of the report builders and checklists:
an empty study, and one with a little of everything, each field set explicitly."""

from __future__ import annotations

from dataclasses import replace

from triangulum.reports.evidence import (
    AgreementFacts,
    CaseworkFacts,
    CodeFacts,
    Counted,
    Evidence,
    FrameFacts,
    IntegrationFacts,
    ItemFacts,
    QuoteFacts,
    ResultTable,
    RunFacts,
    SampleFacts,
    StudyFacts,
    WaveFacts,
)


def empty_casework() -> CaseworkFacts:
    return CaseworkFacts(
        counts={},
        codes=(),
        sites=(),
        initiatives=(),
        benefits=(),
        agreement=None,
        memo_titles=(),
        codebook_versions=0,
        matrices=0,
        charted_cells=0,
        turn_timestamps=False,
        media_originals=(),
        pseudonyms={},
        coder_roles=(),
        simulated=False,
    )


def empty_integration() -> IntegrationFacts:
    return IntegrationFacts(
        findings=(),
        themes=(),
        assessments=(),
        propositions=(),
        displays=(),
        qca_runs=0,
        simulated=False,
    )


def empty_evidence() -> Evidence:
    """A study with a protocol and nothing else: no waves, results or case studies."""
    return Evidence(
        study=StudyFacts(
            slug="empty",
            title="A study with nothing in it yet",
            short_title="Empty",
            funder="",
            funding_amount="",
            host="",
            start_date="",
            end_date="",
            aim="",
            secondary_focus="",
            stakeholder_groups=(),
            care_sectors=(),
            rqs=((1, "Modes", "Which modes?"), (2, "Scope", "How much scope?")),
            phases=(),
            team_roles=(),
            simulated=False,
            url="/studies/empty/",
        ),
        results={},
        runs=(),
        items={},
        waves=(),
        frames={},
        samples=(),
        casework=empty_casework(),
        integration=empty_integration(),
        typology_attribute="typology_class_empty",
        typology_counts=(),
        simulated=False,
    )


def share_table(wave: int, rows: list[dict]) -> ResultTable:
    return ResultTable(
        result_id=100 + wave,
        run_id=10,
        step="likert",
        name=f"wave{wave}_share_agreeing",
        caption="Share agreeing.",
        columns=(
            "wave",
            "item",
            "label",
            "agreeing",
            "share",
            "ci_low",
            "ci_high",
            "n_substantive",
        ),
        rows=tuple({"wave": wave, **row} for row in rows),
        url=f"/studies/full/analysis/results/{100 + wave}/",
        simulated=False,
    )


def wave(number: int, **changes) -> WaveFacts:
    facts = WaveFacts(
        number=number,
        name=f"Wave {number}",
        phase_name=f"Survey {number}",
        phase_kind="national_survey_wave" if number == 1 else "generalisation_survey_wave",
        frame_vintage=f"201{3 + 3 * (number - 1)}-04-01",
        field_start=f"201{4 + 2 * (number - 1)}-04-07",
        field_end=f"201{4 + 2 * (number - 1)}-07-18",
        modes=("telephone", "web"),
        max_attempts=8,
        instrument_title="Governing body survey",
        instrument_version=f"{number}.0",
        instrument_sha256="ab" * 32,
        languages=("English",),
        simulated=False,
        cases=100,
        buckets={"I": 40, "P": 2, "R": 30, "NC": 20, "O": 1, "UH": 0, "UO": 5, "NE": 2},
        codes=(
            ("1.1", 40),
            ("1.2", 2),
            ("2.11", 30),
            ("2.21", 20),
            ("2.30", 1),
            ("3.20", 5),
            ("4.10", 2),
        ),
        e=0.97,
        e_method="proportional",
        rates={"RR1": 0.4, "RR3": 0.41, "COOP1": 0.56},
        completes_by_mode=(("telephone", 30), ("web", 10)),
        code_labels={},
        url=f"/studies/full/fieldwork/waves/{number}/dashboard/",
    )
    return replace(facts, **changes)


def full_evidence() -> Evidence:
    """A small study with a protocol, two waves, a sample per phase, a few results, codes
    with quotes, an agreement check, and no integration records."""
    base = empty_evidence()
    items = {
        "prop_grassroots": ItemFacts(
            "prop_grassroots",
            "Most GPs in our member practices are engaged.",
            (1,),
            "agreement",
            "select one",
            ("disagree", "agree"),
            ("Disagree", "Agree"),
            (2,),
        ),
        "mode_clinical_leads": ItemFacts(
            "mode_clinical_leads",
            "Clinical leads for programmes",
            (1,),
            "extent",
            "select one",
            ("not_at_all", "a_lot"),
            ("Not at all", "A lot"),
            (1, 2),
        ),
    }
    results = {
        "wave1_share_agreeing": share_table(
            1,
            [
                {
                    "item": "mode_clinical_leads",
                    "label": "Clinical leads",
                    "agreeing": "A lot",
                    "share": 0.86,
                    "ci_low": 0.84,
                    "ci_high": 0.89,
                    "n_substantive": 900,
                }
            ],
        ),
        "wave2_share_agreeing": share_table(
            2,
            [
                {
                    "item": "mode_clinical_leads",
                    "label": "Clinical leads",
                    "agreeing": "A lot",
                    "share": 0.87,
                    "ci_low": 0.85,
                    "ci_high": 0.9,
                    "n_substantive": 950,
                },
                {
                    "item": "prop_grassroots",
                    "label": "Grassroots",
                    "agreeing": "Agree",
                    "share": 0.24,
                    "ci_low": 0.21,
                    "ci_high": 0.27,
                    "n_substantive": 940,
                },
            ],
        ),
    }
    quote = QuoteFacts(
        coding_id=7,
        code_id=3,
        code_name="Clinical leads for programmes",
        text="We appointed clinical leads for diabetes.",
        attribution="Chair 1 (pilot site, CCG A)",
        role_category="chair",
        site_label="CCG A",
        phase_kind="pilot_case_studies",
        source_kind="interview",
        url="/studies/full/casework/segments/by-id/?ids=7",
    )
    codes = (
        CodeFacts(
            code_id=3,
            path="RQ1 Modes/Clinical leads for programmes",
            name="Clinical leads for programmes",
            parent_path="RQ1 Modes",
            rqs=(1,),
            definition="Named clinical leads.",
            has_inclusion=True,
            has_exclusion=True,
            has_example=True,
            segments=12,
            sources=9,
            sites=4,
            quotes=(quote,),
            url="/studies/full/casework/codebook/3/",
        ),
    )
    casework = replace(
        empty_casework(),
        counts={
            key: Counted(key, key, value)
            for key, value in {
                "sources": 20,
                "sources/interview": 16,
                "sources/observation_notes": 2,
                "sources/document": 2,
                "sites": 6,
                "sites/pilot_case_studies": 4,
                "sites/in_depth_case_studies": 2,
                "speakers": 18,
                "speakers/chair": 6,
                "speakers/gp_member": 12,
                "codings": 120,
                "coders": 2,
                "codes": 1,
            }.items()
        },
        codes=codes,
        agreement=AgreementFacts(sources=3, coders=2, kappa=0.61, alpha=0.7, url=""),
        codebook_versions=2,
        matrices=1,
        charted_cells=4,
    )
    samples = (
        SampleFacts(
            1,
            "Census",
            "census",
            "national_survey_wave",
            "Survey 1",
            211,
            211,
            None,
            "2013-04-01",
            "h1",
            False,
            "",
        ),
        SampleFacts(
            2,
            "Census 2",
            "census",
            "generalisation_survey_wave",
            "Survey 2",
            209,
            209,
            None,
            "2016-04-01",
            "h2",
            False,
            "",
        ),
        SampleFacts(
            3,
            "Pilot sites",
            "purposive",
            "pilot_case_studies",
            "Pilot",
            211,
            4,
            2013,
            "2013-04-01",
            "h3",
            False,
            "",
        ),
    )
    study = replace(
        base.study,
        slug="full",
        funder="A funder",
        host="A university",
        aim="To find out.",
        phases=(
            (1, "pilot_case_studies", "Pilot case studies", "complete", ""),
            (2, "national_survey_wave", "Survey 1", "complete", ""),
            (3, "generalisation_survey_wave", "Survey 2", "complete", ""),
        ),
        team_roles=(("lead", 1), ("researcher", 1)),
    )
    return replace(
        base,
        study=study,
        results=results,
        runs=(
            RunFacts(10, "likert", 2013, "cd" * 32, "triangulum test", {}, False),
            RunFacts(11, "weighting", 2013, "cd" * 32, "triangulum test", {}, False),
        ),
        items=items,
        waves=(wave(1), wave(2)),
        frames={
            "2013-04-01": FrameFacts("2013-04-01", 211, (("London", 32),), ""),
            "2016-04-01": FrameFacts("2016-04-01", 209, (("London", 32),), ""),
        },
        samples=samples,
        casework=casework,
    )
