"""The demo's integration of the strands, in the study's own order.

1. After the case studies and before wave 2's fieldwork (``LOCK_STEP``, placed by the demo
   registry): themes mirroring the built-in codebook, the pilot and in-depth case-study
   findings citing coded segments and framework cells, and six propositions from the
   in-depth findings, each linked to wave-2 items and locked while wave 2 holds no data.
2. After the analysis of both waves (``MAIN_STEP``): the propositions tested on wave 2, the
   survey findings citing analysis results, two simulated researchers' convergence codes
   with rationales (they partly disagree), the settled codes and kappa, a global
   assessment per research question, and three joint displays whose every row cites survey
   and case-study evidence, with a meta-inference per row.
3. A QCA of the sites (``qca_sites.demo_qca``, by the linked-cases work), where present.

The two simulated researchers are the demo's ``lead`` and ``researcher`` accounts (both
may code the convergence matrix; see docs/adr/0020). Everything is marked simulated.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from triangulum.analysis.actions import typology_attribute
from triangulum.analysis.models import AnalysisResult
from triangulum.casework.actions import code_path
from triangulum.casework.models import Code, Coding, FrameworkCell
from triangulum.core.demo_registry import DemoContext, DemoStep
from triangulum.organisations.models import Organisation
from triangulum.studies.models import Phase

from . import actions, convergence
from .models import (
    Finding,
    JointDisplay,
    Proposition,
    SettledPairCode,
    Strand,
    StrandPairCode,
    Theme,
)
from .propositions import outcome_text, verdict_rule_text

ACTOR = "triangulum demo"
LOCK_STEP = "Case-study findings and propositions, locked before wave 2"
MAIN_STEP = "Integrate the strands: propositions tested, convergence, joint displays"
QCA_STEP = "QCA of the case-study sites"
WAVE2_STEP = "Simulate survey wave 2 (fieldwork)"  # fieldwork.demo.WAVE2_STEP
CODERS = ("lead", "researcher")
# How often each simulated researcher's code departs from the settled one.
SLIP = {"lead": 0.12, "researcher": 0.2}
NEAREST = {
    "agreement": ("partial",),
    "partial": ("agreement", "dissonance"),
    "silence": ("partial",),
    "dissonance": ("partial",),
}
AGREE = ["agree", "strongly_agree"]
PHASE_STRAND = {
    Phase.Kind.PILOT_CASE_STUDIES: Strand.PILOT,
    Phase.Kind.IN_DEPTH_CASE_STUDIES: Strand.INDEPTH,
}
STRAND_NAME = {s.value: s.label.lower() for s in Strand}
MIN_CODINGS = 3  # a case-study strand speaks on a theme with at least this many segments
SEGMENTS_CITED = 3
SIMULATED = "(Simulated.)"


@dataclass(frozen=True)
class ThemeSpec:
    rq: int
    code: str  # the built-in codebook's path
    name: str
    pilot: str  # what the pilot sites said (simulated), or "" where they were silent
    indepth: str
    wave1: tuple[str, ...] = ()  # items whose wave-1 share the survey finding cites
    wave2: tuple[str, ...] = ()
    # Settled relations between strands that speak, where not plain agreement.
    relations: dict = field(default_factory=dict)


THEMES = (
    ThemeSpec(
        1,
        "RQ1 Modes/Formal roles",
        "Formal roles on the governing body",
        "Pilot sites describe the governing-body seats as the main route for clinicians.",
        "In-depth sites rely on formal roles, but interviewees say the seats alone do not "
        "reach practices.",
        wave1=("mode_governing_roles",),
        wave2=("mode_governing_roles",),
    ),
    ThemeSpec(
        1,
        "RQ1 Modes/Locality and member-practice forums",
        "Locality and member-practice forums",
        "Pilot sites describe locality forums as patchy: lively in some localities, empty "
        "in others.",
        "In-depth sites use locality groups to bring practices into redesign.",
        wave1=("mode_localities",),
        wave2=("mode_localities",),
        relations={("pilot", "wave1"): "partial", ("indepth", "pilot"): "partial"},
    ),
    ThemeSpec(
        1,
        "Emerging themes/Collaborative leadership style",
        "Collaborative leadership style",
        "Chairs in the pilot sites call their GP colleagues' leadership collaborative.",
        "GP leaders in the in-depth sites prefer to lead by collaborating rather than by "
        "directing.",
    ),
    ThemeSpec(
        1,
        "Emerging themes/Clinician–manager alliance",
        "Clinician–manager alliance",
        "A few pilot interviewees describe clinicians and managers as partners.",
        "In-depth sites describe an alliance of clinicians and managers, told more warmly by "
        "chairs and accountable officers than by GP members.",
        wave1=("vision_set",),
        relations={("indepth", "wave1"): "partial", ("pilot", "wave1"): "partial"},
    ),
    ThemeSpec(
        1,
        "Emerging themes/Leadership at every level",
        "Leadership at every level",
        "Pilot sites mention clinical leadership beyond the formal roles.",
        "In-depth interviewees hold that clinical leadership is needed at every level, from "
        "strategy to the front line.",
    ),
    ThemeSpec(
        2,
        "RQ2 Scope/Social care and local authority",
        "Scope with social care and the local authority",
        "",
        "In-depth sites find the least room for clinicians where redesign crosses into "
        "social care.",
        wave1=("scope_social_care",),
        wave2=("scope_social_care",),
    ),
    ThemeSpec(
        2,
        "RQ2 Scope/Health and Wellbeing Board",
        "Health and Wellbeing Boards",
        "",
        "In-depth sites with an active Health and Wellbeing Board describe it as opening real "
        "room for clinicians in joint commissioning.",
        wave1=("hwb_scope",),
        wave2=("hwb_scope",),
        relations={("indepth", "wave1"): "dissonance", ("indepth", "wave2"): "dissonance"},
    ),
    ThemeSpec(
        3,
        "RQ3 Benefits/Integration across boundaries",
        "Care integrated across boundaries",
        "Pilot sites aim their redesigns at integrating care across organisations.",
        "Integration across boundaries is the benefit most in-depth redesigns set out to achieve.",
        wave1=("benefits_achieved",),
        wave2=("benefits_achieved",),
        relations={("pilot", "wave1"): "partial", ("indepth", "wave1"): "partial"},
    ),
    ThemeSpec(
        3,
        "RQ3 Benefits/Quality of care",
        "Quality of care",
        "Pilot sites name better quality of care as the aim of clinical leadership.",
        "In-depth redesigns name quality of care beside integration.",
        wave1=("benefits_achieved",),
    ),
    ThemeSpec(
        4,
        "RQ4 Enablers and blockers/Relationships and trust",
        "Relationships and trust",
        "Pilot sites credit long-standing relationships for what moved.",
        "In-depth sites say trust between organisations and professions enabled redesign.",
        wave1=("factor_relationships",),
        wave2=("factor_relationships",),
    ),
    ThemeSpec(
        4,
        "RQ4 Enablers and blockers/Competition and market levers",
        "Competition and market levers",
        "Pilot sites had hardly used competitive tendering.",
        "In-depth sites avoided competition, fearing for the relationships redesign depends on.",
    ),
    ThemeSpec(
        4,
        "RQ4 Enablers and blockers/Professional and political barriers",
        "Professional and political barriers",
        "Pilot sites mention consultants' and councillors' resistance.",
        "In every in-depth site professional and political barriers held clinical leaders back.",
    ),
    ThemeSpec(
        4,
        "RQ4 Enablers and blockers/NHS England and national policy",
        "National policy and NHS England",
        "Pilot sites see national policy as a constraint more than a help.",
        "In-depth interviewees describe an uncertain national policy environment that held "
        "clinical leaders back.",
        wave1=("factor_national_policy",),
        wave2=("factor_national_policy",),
        relations={("indepth", "pilot"): "partial"},
    ),
)


@dataclass(frozen=True)
class PropositionSpec:
    theme: str
    statement: str
    test: str
    direction: str
    parameters: dict
    support_rule: str


PROPOSITIONS = (
    PropositionSpec(
        "Collaborative leadership style",
        "Across England, GPs on CCG governing bodies prefer to lead by collaborating rather "
        "than by directing: more than half of governing-body members agree that this "
        "describes their CCG.",
        "proportion",
        "greater",
        {"item": "prop_collaborative_style", "categories": AGREE, "threshold": 0.5},
        "Support: the 95% interval of the weighted share agreeing (agree or strongly agree, "
        "among substantive answers) lies wholly above 50%.",
    ),
    PropositionSpec(
        "Clinician–manager alliance",
        "Chairs and accountable officers see clinicians and managers as an alliance more "
        "often than chief finance officers and GP members do.",
        "difference",
        "greater",
        {
            "item": "prop_alliance",
            "categories": AGREE,
            "group_item": "role",
            "group_a": ["chair", "accountable_officer"],
            "group_b": ["chief_finance_officer", "gp_member"],
        },
        "Support: the 95% interval of the difference in shares agreeing (chairs and "
        "accountable officers minus chief finance officers and GP members) lies wholly "
        "above 0.",
    ),
    PropositionSpec(
        "Leadership at every level",
        "Members across England hold that clinical leadership is needed at every level: "
        "their mean answer lies above 'agree' (4 on the five-point scale).",
        "mean",
        "greater",
        {"item": "prop_every_level", "threshold": 4.0},
        "Support: the 95% interval of the weighted mean scale position (1 strongly disagree "
        "to 5 strongly agree) lies wholly above 4.",
    ),
    PropositionSpec(
        "Competition and market levers",
        "Few CCGs have used competition and market mechanisms to redesign services: fewer "
        "than a quarter of members agree that theirs has.",
        "proportion",
        "less",
        {"item": "prop_market_levers", "categories": AGREE, "threshold": 0.25},
        "Support: the 95% interval of the weighted share agreeing lies wholly below 25%.",
    ),
    PropositionSpec(
        "Professional and political barriers",
        "Professional and political barriers hold clinical leaders back in most areas: more "
        "than 60% of members agree.",
        "proportion",
        "greater",
        {"item": "prop_barriers", "categories": AGREE, "threshold": 0.6},
        "Support: the 95% interval of the weighted share agreeing lies wholly above 60%.",
    ),
    PropositionSpec(
        "National policy and NHS England",
        "An uncertain national policy environment holds clinical leaders back across "
        "England: more than half of members agree.",
        "proportion",
        "greater",
        {"item": "prop_policy_uncertainty", "categories": AGREE, "threshold": 0.5},
        "Support: the 95% interval of the weighted share agreeing lies wholly above 50%.",
    ),
)
VERDICT_RELATION = {
    "supported": "agreement",
    "inconclusive": "partial",
    "not_supported": "dissonance",
}


# --------------------------------------------------------------------------- helpers


def _users() -> dict:
    User = get_user_model()
    return {name: User.objects.get(username=name) for name in CODERS}


def _codings(study) -> list[Coding]:
    """The main coder's codings with their source (without its text) and code."""
    return list(
        Coding.objects.filter(source__study=study, coder__username="coder")
        .select_related("source", "source__phase", "source__site", "code")
        .defer("source__text", "source__original_bytes")
        .order_by("source_id", "start", "id")
    )


def _codings_by_strand(study, codes: dict[str, Code]) -> dict[tuple[int, str], list[Coding]]:
    wanted = {code.id for code in codes.values()}
    found: dict[tuple[int, str], list[Coding]] = {}
    for coding in _codings(study):
        phase = coding.source.phase
        strand = PHASE_STRAND.get(phase.kind) if phase else None
        if strand and coding.code_id in wanted:
            found.setdefault((coding.code_id, strand), []).append(coding)
    return found


def _spread(codings: list[Coding], count: int) -> list[Coding]:
    """Up to ``count`` codings from different sites where there are enough."""
    chosen, sites = [], set()
    for coding in codings:
        if coding.source.site_id not in sites:
            chosen.append(coding)
            sites.add(coding.source.site_id)
        if len(chosen) == count:
            return chosen
    return (chosen + [c for c in codings if c not in chosen])[:count]


def _segment_label(coding: Coding) -> str:
    # Not the source's title: it names a participant's role at a site (ADR 0005).
    site = coding.source.site
    return f"Segment coded {coding.code.name}" + (f" at {site.name}" if site else "")


def _themes(study) -> dict[str, Theme]:
    return {theme.name: theme for theme in Theme.objects.filter(study=study)}


# --------------------------------------------------------------------------- step 1


def lock_before_wave2(ctx: DemoContext) -> None:
    study = ctx.shared.get("study")
    if study is None or not study.sources.exists():
        ctx.record("Integration: no case studies to integrate (skipped)")
        return
    if Proposition.objects.filter(study=study).exists():
        ctx.record("Integration: propositions already present (kept as they were)")
        return
    wave2 = study.waves.filter(number=2).first()
    if wave2 is None:
        ctx.record("Integration: no second survey wave to test propositions on (skipped)")
        return
    users = _users()
    lead = users["lead"]
    questions = {rq.number: rq for rq in study.research_questions.all()}
    all_codes = list(Code.objects.filter(study=study, is_active=True))
    by_id = {code.id: code for code in all_codes}
    by_path = {code_path(code, by_id): code for code in all_codes}
    codes = {spec.name: by_path[spec.code] for spec in THEMES if spec.code in by_path}
    segments = _codings_by_strand(study, codes)
    cells: dict[int, list[FrameworkCell]] = {}
    for cell in (
        FrameworkCell.objects.filter(matrix__study=study)
        .exclude(summary="")
        .select_related("matrix", "case", "code")
        .order_by("id")
    ):
        cells.setdefault(cell.code_id, []).append(cell)

    with transaction.atomic():
        themes = {}
        for order, spec in enumerate(THEMES):
            if spec.name not in codes:
                continue
            themes[spec.name] = actions.create_theme(
                study=study,
                research_question=questions[spec.rq],
                name=spec.name,
                description=f"Mirrors the codebook's code “{spec.code}”.",
                code=codes[spec.name],
                order=order,
                actor=lead,
                simulated=True,
            )
        findings = {}
        for spec in THEMES:
            theme = themes.get(spec.name)
            if theme is None:
                continue
            for strand, text in ((Strand.PILOT, spec.pilot), (Strand.INDEPTH, spec.indepth)):
                cited = segments.get((theme.code_id, strand), [])
                if not text or len(cited) < MIN_CODINGS:
                    continue
                sites = len({c.source.site_id for c in cited})
                finding = actions.create_finding(
                    study=study,
                    strand=strand,
                    research_question=theme.research_question,
                    theme=theme,
                    statement=f"{text} ({len(cited)} coded segments from {sites} sites.) "
                    + SIMULATED,
                    actor=lead,
                    simulated=True,
                )
                for coding in _spread(cited, SEGMENTS_CITED):
                    actions.add_evidence(
                        actor=lead, finding=finding, coding=coding, label=_segment_label(coding)
                    )
                if strand == Strand.INDEPTH:
                    for cell in cells.get(theme.code_id, [])[:1]:
                        actions.add_evidence(actor=lead, finding=finding, framework_cell=cell)
                findings[(spec.name, strand)] = finding
        locked = 0
        for spec in PROPOSITIONS:
            source = findings.get((spec.theme, Strand.INDEPTH))
            if source is None:
                continue
            proposition = actions.create_proposition(
                study=study,
                research_question=source.research_question,
                wave=wave2,
                finding=source,
                statement=spec.statement,
                test=spec.test,
                direction=spec.direction,
                parameters=spec.parameters,
                support_rule=spec.support_rule,
                actor=lead,
                simulated=True,
            )
            for coding in _spread(segments.get((source.theme.code_id, Strand.INDEPTH), []), 2):
                actions.add_evidence(
                    actor=lead,
                    proposition=proposition,
                    coding=coding,
                    label=_segment_label(coding),
                )
            actions.lock_proposition(proposition=proposition, actor=lead)
            locked += 1
    ctx.shared["integration"] = {"themes": themes, "findings": findings}
    ctx.record(
        f"Integration (simulated): {len(themes)} themes, {len(findings)} case-study findings "
        f"and {locked} propositions locked while {wave2.name} held no data"
    )


# --------------------------------------------------------------------------- step 2


class _Results:
    """The latest analysis results by name, and their rows."""

    def __init__(self, study):
        self.by_name: dict[str, AnalysisResult] = {}
        for result in (
            AnalysisResult.objects.filter(run__study=study, run__status="succeeded")
            .select_related("run")
            .defer("svg")
            .order_by("run__started_at", "run_id", "order")
        ):
            self.by_name[result.name] = result  # later runs win

    def row(self, name: str, **wanted) -> tuple[AnalysisResult, dict] | None:
        result = self.by_name.get(name)
        if result is None:
            return None
        for row in result.data or []:
            if all(str(row.get(k)) == str(v) for k, v in wanted.items()):
                return result, row
        return None


def _share(row: dict) -> str:
    return f"{row['share']:.0%} (95% CI {row['ci_low']:.0%}–{row['ci_high']:.0%})"


def _survey_findings(study, lead, results: _Results, themes, propositions) -> dict:
    findings = {}
    for spec in THEMES:
        theme = themes.get(spec.name)
        if theme is None:
            continue
        for number, strand, items in ((1, Strand.WAVE1, spec.wave1), (2, Strand.WAVE2, spec.wave2)):
            cited, parts = [], []
            for item in items:
                found = results.row(f"wave{number}_share_agreeing", wave=number, item=item)
                if found is None:
                    continue
                result, row = found
                parts.append(
                    f"{_share(row)} of members answered {row['agreeing'].lower()} to "
                    f"“{row['label']}”"
                )
                cited.append((result, {"row": {"wave": number, "item": item}, "column": "share"}))
            proposition = propositions.get(spec.name) if number == 2 else None
            if proposition is not None and proposition.verdict:
                statistic = outcome_text(
                    test=proposition.test,
                    estimate=proposition.effect,
                    ci_low=proposition.ci_low,
                    ci_high=proposition.ci_high,
                    threshold=proposition.test_details["threshold"],
                )
                parts.append(
                    f"the in-depth sites' proposition “{proposition.statement}” was "
                    f"{proposition.get_verdict_display().lower()} ({statistic})"
                )
            if not parts:
                continue
            finding = actions.create_finding(
                study=study,
                strand=strand,
                research_question=theme.research_question,
                theme=theme,
                statement=f"Wave {number}: " + "; ".join(parts) + f". {SIMULATED}",
                actor=lead,
                simulated=True,
            )
            for result, locator in cited:
                actions.add_evidence(
                    actor=lead, finding=finding, analysis_result=result, locator=locator
                )
            if proposition is not None and proposition.verdict:
                actions.add_evidence(actor=lead, finding=finding, cited_proposition=proposition)
            findings[(spec.name, strand)] = finding
    return findings


def _relation(spec: ThemeSpec, a: str, b: str, speaks: set[str], verdict: str | None) -> str:
    if a not in speaks or b not in speaks:
        return "silence"
    if (a, b) in spec.relations:
        return spec.relations[(a, b)]
    if verdict and Strand.WAVE2 in (a, b) and {a, b} & {Strand.PILOT, Strand.INDEPTH}:
        return VERDICT_RELATION[verdict]
    return "agreement"


def _reason(spec: ThemeSpec, a: str, b: str, code: str) -> str:
    first, second = STRAND_NAME[a], STRAND_NAME[b]
    topic = spec.name.lower()
    if code == "silence":
        return f"Only one of the {first} and the {second} has a finding on {topic}."
    if code == "agreement":
        return f"The {first} and the {second} say the same about {topic}."
    if code == "partial":
        return (
            f"The {first} and the {second} point the same way on {topic}, but differ in how "
            "far or how widely it holds."
        )
    return f"The {first} and the {second} contradict each other on {topic}."


def _convergence(study, users, findings, propositions, rng: random.Random) -> dict:
    themes = _themes(study)
    speaks: dict[str, set[str]] = {}
    for name, strand in findings:
        speaks.setdefault(name, set()).add(strand)
    coded = settled = 0
    for spec in THEMES:
        theme = themes.get(spec.name)
        if theme is None:
            continue
        proposition = propositions.get(spec.name)
        verdict = proposition.verdict if proposition is not None else None
        for a, b in convergence.strand_pairs():
            truth = _relation(spec, a, b, speaks.get(spec.name, set()), verdict)
            given = {}
            for username in CODERS:
                code = truth
                if rng.random() < SLIP[username]:
                    code = rng.choice(NEAREST[truth])
                given[username] = code
                actions.code_pair(
                    theme=theme,
                    strand_a=a,
                    strand_b=b,
                    coder=users[username],
                    code=code,
                    rationale=_reason(spec, a, b, code) + f" {SIMULATED}",
                    simulated=True,
                )
                coded += 1
            if len(set(given.values())) == 1:
                why = f"Both researchers coded {truth}. {_reason(spec, a, b, truth)}"
            else:
                differed = ", ".join(f"{u}: {c}" for u, c in given.items())
                why = (
                    f"The researchers differed ({differed}); after comparing the findings "
                    f"they settled on {truth}. {_reason(spec, a, b, truth)}"
                )
            actions.settle_pair(
                theme=theme,
                strand_a=a,
                strand_b=b,
                code=truth,
                rationale=f"{why} {SIMULATED}",
                actor=users["lead"],
                simulated=True,
            )
            settled += 1
    return {"coded": coded, "settled": settled}


def _assessments(study, lead, propositions) -> None:
    rows = SettledPairCode.objects.filter(theme__study=study).values_list(
        "theme__research_question__number", "code"
    )
    counts: dict[int, dict[str, int]] = {}
    for number, code in rows:
        counts.setdefault(number, dict.fromkeys(convergence.CODES, 0))[code] += 1
    tested: dict[int, list[str]] = {}
    for proposition in propositions.values():
        if proposition.verdict:
            tested.setdefault(proposition.research_question.number, []).append(
                proposition.get_verdict_display().lower()
            )
    for rq in study.research_questions.all():
        tally = counts.get(rq.number)
        if not tally:
            continue
        total = sum(tally.values())
        spoken = total - tally["silence"]
        text = (
            f"Of {total} strand pairs on this question's themes, {tally['agreement']} agree, "
            f"{tally['partial']} agree in part, {tally['dissonance']} conflict and "
            f"{tally['silence']} are silences (one strand has no finding)."
        )
        if spoken:
            text += f" Where both strands speak, {tally['agreement'] / spoken:.0%} agree fully."
        verdicts = tested.get(rq.number)
        if verdicts:
            text += (
                " Wave 2 tested "
                f"{len(verdicts)} proposition(s) from the in-depth sites: "
                + ", ".join(verdicts)
                + "."
            )
        text += f" {SIMULATED}"
        actions.write_global_assessment(
            study=study, research_question=rq, assessment=text, actor=lead, simulated=True
        )


# --- joint displays ---------------------------------------------------------------------


def _cite_segments(cell, codings, lead, count=2) -> None:
    for coding in _spread(codings, count):
        actions.add_evidence(actor=lead, cell=cell, coding=coding, label=_segment_label(coding))


def _copy_evidence(cell, evidence, lead) -> None:
    """Cite in a display cell what a finding cites."""
    actions.add_evidence(
        actor=lead,
        cell=cell,
        analysis_result=evidence.analysis_result,
        wave=evidence.wave,
        item=evidence.item,
        coding=evidence.coding,
        framework_cell=evidence.framework_cell,
        source=evidence.source,
        cited_proposition=evidence.cited_proposition,
        locator=evidence.locator,
        label=evidence.label,
    )


def _statistics_by_themes(study, users, results, findings, segments, settled_by_theme) -> int:
    lead, researcher = users["lead"], users["researcher"]
    display = actions.create_joint_display(
        study=study,
        kind=JointDisplay.Kind.STATISTICS_BY_THEMES,
        title="Survey statistics by case-study themes (simulated)",
        slug="statistics-by-themes",
        columns=[
            {"key": "statistics", "label": "Survey statistics, waves 1 and 2", "strand": "survey"},
            {"key": "themes", "label": "Case-study theme", "strand": "case_study"},
            {"key": "convergence", "label": "Settled convergence codes"},
        ],
        description="Each theme's survey shares beside what the case studies said. " + SIMULATED,
        actor=lead,
        simulated=True,
    )
    rows = 0
    for spec in THEMES:
        survey = [
            found
            for number, items in ((1, spec.wave1), (2, spec.wave2))
            for item in items
            if (found := results.row(f"wave{number}_share_agreeing", wave=number, item=item))
        ]
        case = findings.get((spec.name, Strand.INDEPTH)) or findings.get((spec.name, Strand.PILOT))
        codings = segments.get(spec.name, [])
        if not survey or case is None or not codings:
            continue
        row = actions.add_display_row(
            display=display, label=spec.name, theme=case.theme, actor=lead
        )
        statistics = actions.set_display_cell(
            row=row,
            column="statistics",
            text="; ".join(
                f"Wave {r['wave']}: {_share(r)} {r['agreeing'].lower()}" for _, r in survey
            ),
            actor=lead,
        )
        for result, found in survey:
            actions.add_evidence(
                actor=lead,
                cell=statistics,
                analysis_result=result,
                locator={"row": {"wave": found["wave"], "item": found["item"]}, "column": "share"},
            )
        themes_cell = actions.set_display_cell(
            row=row, column="themes", text=case.statement, actor=lead
        )
        _cite_segments(themes_cell, codings, lead)
        tally = settled_by_theme.get(case.theme_id, {})
        actions.set_display_cell(
            row=row,
            column="convergence",
            text=", ".join(f"{n} {code}" for code, n in tally.items() if n) or "not settled",
            actor=lead,
        )
        spoken = sum(n for code, n in tally.items() if code != "silence")
        if tally.get("dissonance"):
            inference = (
                f"The survey and the case studies conflict on {spec.name.lower()} "
                f"({tally['dissonance']} of {spoken} compared strand pairs): the case-study "
                "sites are not typical of CCGs here, and the national figure is the better "
                "guide to how widely it holds."
            )
        elif tally.get("partial"):
            inference = (
                f"The survey bears out the direction of the case-study finding on "
                f"{spec.name.lower()}, but not its strength everywhere "
                f"({tally['partial']} of {spoken} strand pairs agree only in part)."
            )
        else:
            inference = (
                f"The survey shows that what the case-study sites said about "
                f"{spec.name.lower()} holds across CCGs ({tally.get('agreement', 0)} of "
                f"{spoken} strand pairs agree)."
            )
        actions.record_meta_inference(row=row, text=f"{inference} {SIMULATED}", actor=researcher)
        rows += 1
    return rows


def _side_by_side(study, users, findings, propositions) -> int:
    lead = users["lead"]
    display = actions.create_joint_display(
        study=study,
        kind=JointDisplay.Kind.SIDE_BY_SIDE,
        title="Survey and case-study findings side by side, by research question (simulated)",
        slug="side-by-side-by-rq",
        columns=[
            {"key": "survey", "label": "Survey findings (waves 1 and 2)", "strand": "survey"},
            {"key": "case_studies", "label": "Case-study findings", "strand": "case_study"},
        ],
        description="Per research question, what each kind of strand found. " + SIMULATED,
        actor=lead,
        simulated=True,
    )
    rows = 0
    for rq in study.research_questions.all():
        specs = [s for s in THEMES if s.rq == rq.number]
        survey = [
            findings[(s.name, strand)]
            for s in specs
            for strand in (Strand.WAVE1, Strand.WAVE2)
            if (s.name, strand) in findings
        ]
        cases = [
            findings[(s.name, strand)]
            for s in specs
            for strand in (Strand.INDEPTH, Strand.PILOT)
            if (s.name, strand) in findings
        ]
        if not survey or not cases:
            continue
        row = actions.add_display_row(
            display=display, label=str(rq), research_question=rq, actor=lead
        )
        survey_cell = actions.set_display_cell(
            row=row,
            column="survey",
            text=" ".join(f.statement.replace(SIMULATED, "").strip() for f in survey[:3]),
            actor=lead,
        )
        for finding in survey[:3]:
            for evidence in finding.evidence.all()[:1]:
                _copy_evidence(survey_cell, evidence, lead)
        case_cell = actions.set_display_cell(
            row=row,
            column="case_studies",
            text=" ".join(f.statement.replace(SIMULATED, "").strip() for f in cases[:3]),
            actor=lead,
        )
        for finding in cases[:2]:
            for evidence in finding.evidence.all()[:1]:
                _copy_evidence(case_cell, evidence, lead)
        verdicts = [
            p.get_verdict_display().lower()
            for name, p in propositions.items()
            if p.research_question_id == rq.id and p.verdict
        ]
        actions.record_meta_inference(
            row=row,
            text=f"{rq.code}: the survey shows how widely the case-study findings hold"
            + (f"; wave 2's propositions were {', '.join(verdicts)}" if verdicts else "")
            + f". {SIMULATED}",
            actor=users["researcher"],
        )
        rows += 1
    return rows


TYPOLOGY_THEMES = (
    ("formal_roles", "Formal roles on the governing body"),
    ("localities", "Locality and member-practice forums"),
    ("alliance", "Clinician–manager alliance"),
)


def _typology_by_themes(study, users, results, site_codings) -> int:
    lead = users["lead"]
    profiles = results.by_name.get("typology_profiles")
    if profiles is None:
        return 0
    attribute = typology_attribute(study)
    class_of = {
        org.id: org.attributes.get(attribute)
        for org in Organisation.objects.filter(
            id__in={site for site, _ in site_codings}, attributes__has_key=attribute
        )
    }
    classes = sorted({row["typology_class"] for row in profiles.data or []})
    display = actions.create_joint_display(
        study=study,
        kind=JointDisplay.Kind.TYPOLOGY_BY_THEMES,
        title="Typology classes of CCGs by case-study themes (simulated)",
        slug="typology-by-themes",
        columns=[
            {"key": "profile", "label": "Survey: the class's profile", "strand": "survey"},
            *({"key": key, "label": name, "strand": "case_study"} for key, name in TYPOLOGY_THEMES),
        ],
        description="Each latent class of the wave-1 typology beside what the case-study "
        "sites of that class said on three themes. " + SIMULATED,
        actor=lead,
        simulated=True,
    )
    rows = 0
    for number in classes:
        profile = [r for r in profiles.data if r["typology_class"] == number]
        by_theme = {
            key: [
                c
                for (site, name), codings in site_codings.items()
                if name == theme and class_of.get(site) == number
                for c in codings
            ]
            for key, theme in TYPOLOGY_THEMES
        }
        if not profile or not any(by_theme.values()):
            continue
        sites = {
            site for (site, _), codings in site_codings.items() if class_of.get(site) == number
        }
        row = actions.add_display_row(
            display=display,
            label=f"Class {number} ({profile[0]['class_share']:.0%} of CCGs; "
            f"{len(sites)} case-study sites)",
            actor=lead,
        )
        top = max(profile, key=lambda r: r.get("p_a_lot") or 0)
        cell = actions.set_display_cell(
            row=row,
            column="profile",
            text=f"Engages clinicians most through {top['item'].removeprefix('mode_')} "
            f"({top.get('p_a_lot') or 0:.0%} 'a lot').",
            actor=lead,
        )
        actions.add_evidence(
            actor=lead,
            cell=cell,
            analysis_result=profiles,
            locator={"row": {"typology_class": number, "item": top["item"]}},
        )
        for key, theme in TYPOLOGY_THEMES:
            codings = by_theme[key]
            text = (
                f"{len(codings)} segments on {theme.lower()} from this class's sites."
                if codings
                else "The sites of this class are silent on this theme."
            )
            theme_cell = actions.set_display_cell(row=row, column=key, text=text, actor=lead)
            _cite_segments(theme_cell, codings, lead)
        actions.record_meta_inference(
            row=row,
            text=f"Class {number}'s sites talk about these themes in proportion to the modes "
            f"the class uses. {SIMULATED}",
            actor=users["researcher"],
        )
        rows += 1
    return rows


def _write_outputs(ctx: DemoContext, study, propositions, agreement_result, counts) -> None:
    folder = ctx.outputs / "integration"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "simulated_propositions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "statement",
                "test",
                "direction",
                "locked_at",
                "lock_hash",
                "verdict",
                "effect",
                "ci_low",
                "ci_high",
                "p_value",
                "n",
                "simulated",
            ]
        )
        for p in propositions.values():
            writer.writerow(
                [
                    p.statement,
                    p.test,
                    p.direction,
                    p.locked_at.isoformat() if p.locked_at else "",
                    p.lock_hash,
                    p.verdict,
                    p.effect,
                    p.ci_low,
                    p.ci_high,
                    p.p_value,
                    p.n_cases,
                    "true",
                ]
            )
    ctx.record(
        f"Propositions from the in-depth sites, locked before wave 2 and tested on it "
        f"({', '.join(p.get_verdict_display().lower() for p in propositions.values())})",
        path,
    )
    summary = folder / "simulated_convergence.json"
    summary.write_text(
        json.dumps(
            {
                "simulated": True,
                "coders": list(CODERS),
                "units": agreement_result.units,
                "percent_agreement": agreement_result.percent_agreement,
                "statistic": agreement_result.statistic,
                "kappa": agreement_result.kappa,
                "settled": counts,
                "verdict_rule": verdict_rule_text(),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    kappa = agreement_result.kappa
    ctx.record(
        "Convergence coding by two simulated researchers: Cohen's kappa "
        f"{'undefined' if kappa is None else f'{kappa:.2f}'} over {agreement_result.units} "
        "theme × strand-pair units",
        summary,
    )


def integrate(ctx: DemoContext) -> None:
    study = ctx.shared.get("study")
    if study is None or "integration" not in ctx.shared:
        return
    if study.joint_displays.exists():
        ctx.record("Integration: joint displays already present (kept as they were)")
        return
    users = _users()
    lead = users["lead"]
    themes = ctx.shared["integration"]["themes"]
    case_findings = ctx.shared["integration"]["findings"]
    analysis = ctx.shared.get("analysis") or {}
    wave_tables = getattr(analysis.get("data"), "waves", {})
    results = _Results(study)
    propositions: dict[str, Proposition] = {}
    theme_of = {f.pk: name for (name, _), f in case_findings.items()}
    rng = random.Random(ctx.seed)
    with transaction.atomic():
        for proposition in actions.test_propositions(
            propositions=list(
                Proposition.objects.filter(study=study).select_related("wave", "research_question")
            ),
            actor=lead,
            data=wave_tables,
        ):
            propositions[theme_of.get(proposition.finding_id, str(proposition.pk))] = proposition
        findings = dict(case_findings)
        findings.update(_survey_findings(study, lead, results, themes, propositions))
        _convergence(study, users, findings, propositions, rng)
        _assessments(study, lead, propositions)

        codes = {name: theme.code_id for name, theme in themes.items()}
        segments: dict[str, list[Coding]] = {}
        site_codings: dict[tuple[int, str], list[Coding]] = {}
        names_by_code = {code: name for name, code in codes.items()}
        for coding in _codings(study):
            name = names_by_code.get(coding.code_id)
            if name is None:
                continue
            phase = coding.source.phase
            if phase is not None and phase.kind == Phase.Kind.IN_DEPTH_CASE_STUDIES:
                segments.setdefault(name, []).append(coding)
            site_codings.setdefault((coding.source.site_id, name), []).append(coding)
        settled_by_theme: dict[int, dict[str, int]] = {}
        for theme_id, code in SettledPairCode.objects.filter(theme__study=study).values_list(
            "theme_id", "code"
        ):
            tally = settled_by_theme.setdefault(theme_id, dict.fromkeys(convergence.CODES, 0))
            tally[code] += 1
        display_rows = _statistics_by_themes(
            study, users, results, findings, segments, settled_by_theme
        )
        display_rows += _side_by_side(study, users, findings, propositions)
        display_rows += _typology_by_themes(study, users, results, site_codings)

    rows = StrandPairCode.objects.filter(theme__study=study).values_list(
        "theme_id", "strand_a", "strand_b", "coder__username", "code"
    )
    agreement_result = convergence.agreement(convergence.collect_codes(rows))
    counts = dict.fromkeys(convergence.CODES, 0)
    for code in SettledPairCode.objects.filter(theme__study=study).values_list("code", flat=True):
        counts[code] += 1
    _write_outputs(ctx, study, propositions, agreement_result, counts)
    ctx.record(
        f"Integration (simulated): {Finding.objects.filter(study=study).count()} findings, "
        f"{sum(counts.values())} settled convergence codes, 4 global assessments, "
        f"3 joint displays ({display_rows} rows, each citing survey and case-study evidence)"
    )


def qca(ctx: DemoContext) -> None:
    study = ctx.shared.get("study")
    if study is None:
        return
    try:
        from . import qca_sites
    except ImportError:  # pragma: no cover - the linked-cases work ships it
        return
    demo_qca = getattr(qca_sites, "demo_qca", None)
    if demo_qca is None:
        return
    runs = demo_qca(study, ACTOR)
    ctx.record(f"QCA of the case-study sites (simulated): {len(runs)} runs stored")


STEPS = [
    # Placed by the registry between the case studies and wave 2's fieldwork.
    DemoStep(LOCK_STEP, lock_before_wave2, before=WAVE2_STEP),
    DemoStep(MAIN_STEP, integrate),
    DemoStep(QCA_STEP, qca),
]
