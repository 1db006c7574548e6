"""Guidance for integrated care boards (formerly CCGs) and Health and Wellbeing Boards on
engaging clinicians and securing the benefits of service redesign. Pure: shapes an
``Evidence`` bundle.

Each recommendation rests on a stated finding and names the evidence that would bear on
it in each strand: survey items (wave 1, wave 2), case-study codes, and the wave-2
propositions that test it. What each strand says is read from the study's results by
fixed rules (``strand_readings``), and the grade follows from the strands (``grade``);
both rules are printed in the document, so a reader can check every grade.
"""

from __future__ import annotations

from dataclasses import dataclass

from .document import Bullets, Heading, Num, Para, Quote, Section, Table
from .evidence import (
    Evidence,
    count,
    effect_format,
    share_agreeing,
)

TITLE = "Engaging clinicians in service redesign: guidance for commissioners"
SUBTITLE = (
    "For integrated care boards (the successors of clinical commissioning groups) and Health "
    "and Wellbeing Boards: graded recommendations and a self-assessment checklist"
)

# --------------------------------------------------------------------------- the rules

THRESHOLD = 0.5  # "most members": a share compared with one half
MIN_SITES = 2  # a case-study theme counts when it is coded at two or more sites

SUPPORTS, CONTRADICTS, MIXED, INCONCLUSIVE, SILENT = (
    "supports",
    "contradicts",
    "mixed",
    "inconclusive",
    "no evidence",
)
STRONG, MODERATE, LIMITED, INSUFFICIENT = "Strong", "Moderate", "Limited", "Insufficient"
GRADE_RULES = (
    (
        STRONG,
        "Three or more strands support the finding and none contradicts it; the case studies "
        "and at least one survey wave are among them; and where a proposition was tested by "
        "the second survey, it was supported.",
    ),
    (MODERATE, "Two strands support the finding and none contradicts it."),
    (
        LIMITED,
        "One strand supports the finding, or the strands disagree (some support, some contradict).",
    ),
    (
        INSUFFICIENT,
        "No strand supports the finding. Such recommendations are listed apart and are not "
        "made on this evidence.",
    ),
)
STRAND_RULES = (
    "Survey (each wave on its own): a share from the stored weighted estimates is compared "
    "with one half. It supports the finding when its whole 95% interval lies on the side the "
    "finding expects, contradicts it when the whole interval lies on the other side, and is "
    "inconclusive otherwise.",
    "Case studies: a theme supports the finding when its code was applied at two or more "
    "case-study sites; the strand is silent when it was applied at fewer.",
    "Proposition test: a proposition locked before the second survey and tested by it supports "
    "the finding when its verdict is “supported”, contradicts it when “not supported”, and is "
    "inconclusive otherwise.",
    "A strand supports (or contradicts) when at least one of its pieces of evidence does and "
    "none points the other way; when pieces point both ways the strand is mixed, which counts "
    "as disagreement.",
)


@dataclass(frozen=True)
class SurveyHook:
    item: str
    expect: str  # "high": most members agree; "low": most do not
    reading: str  # what the share measures, in words


@dataclass(frozen=True)
class Recommendation:
    key: str
    rqs: tuple[int, ...]
    title: str
    finding: str
    actions: tuple[str, ...]
    survey: tuple[SurveyHook, ...]
    codes: tuple[str, ...]  # code paths
    questions: tuple[str, ...]  # self-assessment
    good: str  # what good looks like


RECOMMENDATIONS: tuple[Recommendation, ...] = (
    Recommendation(
        key="R1",
        rqs=(1,),
        title="Spread clinical leadership beyond the governing body",
        finding="Clinical leadership works at every level, from strategy to the front line, "
        "and reaches well beyond the formal posts on the board.",
        actions=(
            "Appoint named clinical leads for each redesign programme or pathway, with time and "
            "a remit agreed in writing.",
            "Recognise and support leadership from clinicians who hold no formal post — practice "
            "nurses, community clinicians, hospital consultants.",
            "Use locality groups and member forums as places where redesign ideas start, not "
            "only where decisions are reported.",
        ),
        survey=(
            SurveyHook("prop_every_level", "high", "agreed leadership is needed at every level"),
            SurveyHook(
                "mode_clinical_leads", "high", "said clinical leads were used moderately or a lot"
            ),
            SurveyHook(
                "mode_localities", "high", "said locality forums were used moderately or a lot"
            ),
        ),
        codes=(
            "Emerging themes/Leadership at every level",
            "RQ1 Modes/Clinical leads for programmes",
            "RQ1 Modes/Informal and distributed leadership",
        ),
        questions=(
            "Does every redesign programme have a named clinical lead with protected time?",
            "Can clinicians without a formal post start and lead a redesign?",
        ),
        good="Clinical leads for each programme; ideas from localities reach the board.",
    ),
    Recommendation(
        key="R2",
        rqs=(1, 4),
        title="Build a working alliance between clinicians and managers",
        finding="Where clinicians and managers work as an alliance — managers giving analysis, "
        "project management and backing — clinical leaders can deliver redesign.",
        actions=(
            "Pair each clinical lead with a manager who owns the programme's analysis and project "
            "management.",
            "Set the organisation's vision jointly, and say so in its strategy.",
        ),
        survey=(
            SurveyHook(
                "prop_alliance", "high", "agreed clinicians and managers work as an alliance"
            ),
            SurveyHook(
                "factor_managerial_support", "high", "said managers' support helped redesign"
            ),
        ),
        codes=(
            "Emerging themes/Clinician–manager alliance",
            "RQ4 Enablers and blockers/Managerial support",
        ),
        questions=(
            "Does each clinical lead have a named manager working alongside them?",
            "Was the organisation's vision agreed by clinicians and managers together?",
        ),
        good="Clinician–manager pairs on every programme; a jointly owned vision.",
    ),
    Recommendation(
        key="R3",
        rqs=(1, 4),
        title="Lead by collaborating, and invest in relationships",
        finding="Clinical leaders prefer — and get further with — a collaborative style that "
        "builds relationships across organisations and professions.",
        actions=(
            "Give redesign groups members from every organisation the change touches, from the "
            "start.",
            "Develop clinical leaders in facilitation and negotiation, not only in running meetings.",
        ),
        survey=(
            SurveyHook(
                "prop_collaborative_style",
                "high",
                "agreed GP leaders prefer collaborating to directing",
            ),
            SurveyHook("factor_relationships", "high", "said relationships helped redesign"),
        ),
        codes=(
            "Emerging themes/Collaborative leadership style",
            "RQ4 Enablers and blockers/Relationships and trust",
        ),
        questions=(
            "Do redesign groups include every organisation affected from the first meeting?",
            "Is leadership development for clinicians focused on working across boundaries?",
        ),
        good="Cross-organisation redesign groups; development in collaborative leadership.",
    ),
    Recommendation(
        key="R4",
        rqs=(1, 4),
        title="Reach grassroots GPs and grow the next generation of clinical leaders",
        finding="Engagement of ordinary member practices with the commissioning body is weak, and "
        "too few clinicians are ready to take over as clinical leaders.",
        actions=(
            "Give member practices regular, two-way routes into redesign — protected learning "
            "time, locality meetings with real decisions.",
            "Offer shadowing, deputy posts and development for clinicians who may lead next.",
        ),
        survey=(
            SurveyHook("prop_grassroots", "low", "agreed most member GPs are actively engaged"),
            SurveyHook("prop_pipeline", "low", "agreed there are enough future clinical leaders"),
        ),
        codes=(
            "Emerging themes/Grassroots engagement",
            "Emerging themes/Pipeline of future leaders",
            "RQ1 Modes/Locality and member-practice forums",
        ),
        questions=(
            "How many member practices took part in a redesign in the last year?",
            "Is there a plan for who will succeed today's clinical leaders?",
        ),
        good="Most practices involved in some redesign each year; a succession plan.",
    ),
    Recommendation(
        key="R5",
        rqs=(2,),
        title="Use the Health and Wellbeing Board and the local authority to widen the scope "
        "for redesign",
        finding="The Health and Wellbeing Board and the local authority have limited influence "
        "over redesign, although the redesigns that matter most cross into social care.",
        actions=(
            "Bring redesigns that cross into social care to the Health and Wellbeing Board early, "
            "with the local authority as a co-owner.",
            "Agree pooled or aligned budgets where money for one pathway sits in both health and "
            "social care.",
        ),
        survey=(
            SurveyHook("infl_hwb", "low", "said the Health and Wellbeing Board had much influence"),
            SurveyHook("infl_la", "low", "said the local authority had much influence"),
            SurveyHook("hwb_scope", "low", "agreed the Board gives clinicians real scope"),
        ),
        codes=(
            "RQ2 Scope/Health and Wellbeing Board",
            "RQ2 Scope/Social care and local authority",
        ),
        questions=(
            "Has the Health and Wellbeing Board discussed each redesign that touches social care?",
            "Is there an aligned or pooled budget for at least one joint pathway?",
        ),
        good="Joint pathways co-owned with the local authority and seen by the Board.",
    ),
    Recommendation(
        key="R6",
        rqs=(3,),
        title="Put clinical leaders at the centre of each redesign and name the benefits sought",
        finding="Clinical leaders are central to much redesign, which aims above all at "
        "integration across boundaries, patient experience and fewer emergency admissions.",
        actions=(
            "State for each redesign the benefits it aims at and how they will be measured.",
            "Start with pathways where the benefit is shared across organisations: frail older "
            "people and people with long-term conditions.",
        ),
        survey=(
            SurveyHook(
                "clinical_centrality",
                "high",
                "said clinical leaders were central to many redesigns",
            ),
            SurveyHook("benefits_achieved", "high", "said the benefits sought were being achieved"),
        ),
        codes=(
            "RQ3 Benefits/Integration across boundaries",
            "RQ3 Benefits/Patient experience",
        ),
        questions=(
            "Does every redesign state the benefits it aims at and how they will be measured?",
            "Is a clinician at the centre of each of your main redesigns?",
        ),
        good="Benefits named and measured for each redesign, each led by a clinician.",
    ),
    Recommendation(
        key="R7",
        rqs=(4,),
        title="Protect clinicians' time and handle conflicts of interest openly",
        finding="Clinicians' time for commissioning work and the rules on conflicts of interest "
        "hold redesign back more often than they help it.",
        actions=(
            "Fund sessions for clinical leads and back-fill their clinical work.",
            "Publish how conflicts of interest are handled for each decision, so that GP leaders "
            "can take part where it is proper.",
        ),
        survey=(
            SurveyHook("factor_clinician_time", "low", "said clinicians' time helped redesign"),
            SurveyHook(
                "factor_conflicts", "low", "said conflict-of-interest rules helped redesign"
            ),
        ),
        codes=(
            "RQ4 Enablers and blockers/Clinicians' time",
            "RQ4 Enablers and blockers/Conflicts of interest",
        ),
        questions=(
            "Are clinical leads' sessions funded and back-filled?",
            "Is there a published, workable process for conflicts of interest?",
        ),
        good="Funded, back-filled sessions; conflicts handled openly and workably.",
    ),
    Recommendation(
        key="R8",
        rqs=(4,),
        title="Plan for an uncertain policy environment and for professional and political "
        "barriers",
        finding="An uncertain national policy environment, reorganisation and professional and "
        "political barriers hold clinical leaders back.",
        actions=(
            "Plan redesigns in stages that deliver something within a year, so that a change of "
            "policy or structure does not waste the work.",
            "Map the professional and political interests a redesign touches and engage them "
            "before proposals are fixed.",
        ),
        survey=(
            SurveyHook(
                "prop_policy_uncertainty", "high", "agreed policy uncertainty holds leaders back"
            ),
            SurveyHook(
                "prop_barriers",
                "high",
                "agreed professional and political barriers hold leaders back",
            ),
            SurveyHook("factor_reorganisation", "low", "said reorganisation helped redesign"),
        ),
        codes=(
            "RQ4 Enablers and blockers/NHS England and national policy",
            "RQ4 Enablers and blockers/Reorganisation",
            "RQ4 Enablers and blockers/Professional and political barriers",
        ),
        questions=(
            "Does each redesign deliver a first benefit within a year?",
            "Were the professional and political stakeholders mapped before the proposal was fixed?",
        ),
        good="Staged redesigns; stakeholders engaged before proposals are fixed.",
    ),
    Recommendation(
        key="R9",
        rqs=(1, 4),
        title="Engage hospital and community clinicians, and keep talking to them",
        finding="Communication with hospital clinicians is weaker than the rest of the "
        "commissioning body's engagement, and provider resistance blocks redesign.",
        actions=(
            "Give hospital consultants and community clinicians seats in redesign groups, with "
            "their time paid for.",
            "Report back to provider clinicians on what their input changed.",
        ),
        survey=(
            SurveyHook(
                "comm_secondary", "low", "rated communication with hospital clinicians good"
            ),
            SurveyHook(
                "mode_secondary_care",
                "low",
                "said hospital clinicians were engaged moderately or a lot",
            ),
        ),
        codes=(
            "RQ1 Modes/Secondary-care and community clinicians",
            "RQ4 Enablers and blockers/Provider resistance",
        ),
        questions=(
            "Do hospital and community clinicians sit in your redesign groups?",
            "Do provider clinicians hear what their input changed?",
        ),
        good="Provider clinicians in every redesign group, with feedback on their input.",
    ),
)


# --------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class Reading:
    """One piece of evidence and what it says about a recommendation's finding."""

    strand: str  # "Survey wave 1", "Survey wave 2", "Case studies", "Proposition test"
    what: str
    result: tuple  # inline pieces (Nums) giving the result
    status: str  # supports | contradicts | inconclusive | no evidence
    quote: Quote | None = None


def survey_reading(ev: Evidence, wave: int, hook: SurveyHook) -> Reading | None:
    found = share_agreeing(ev, wave, hook.item)
    if found is None:
        return None
    table, row = found
    low, high = table.value(row, "ci_low"), table.value(row, "ci_high")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        status = INCONCLUSIVE
    elif low > THRESHOLD:
        status = SUPPORTS if hook.expect == "high" else CONTRADICTS
    elif high < THRESHOLD:
        status = SUPPORTS if hook.expect == "low" else CONTRADICTS
    else:
        status = INCONCLUSIVE
    label = ev.items[hook.item].label if hook.item in ev.items else hook.item
    return Reading(
        strand=f"Survey wave {wave}",
        what=f"Share of members who {hook.reading} (“{label.rstrip('.?')}”); the finding "
        f"expects {'most' if hook.expect == 'high' else 'few'}.",
        result=(
            table.num(row, "share"),
            " (95% interval ",
            table.num(row, "ci_low"),
            " to ",
            table.num(row, "ci_high"),
            ")",
        ),
        status=status,
    )


def case_reading(ev: Evidence, path: str) -> Reading | None:
    code = ev.casework.code(path)
    if code is None:
        return None
    status = SUPPORTS if code.sites >= MIN_SITES else SILENT
    quote = None
    if code.quotes:
        q = code.quotes[0]
        quote = Quote(q.text, q.attribution, q.cite())
    return Reading(
        strand="Case studies",
        what=f"Theme “{code.name}”: {code.definition}",
        result=(
            "coded in ",
            code.segments_num(),
            " passages at ",
            code.sites_num(),
            " sites",
        ),
        status=status,
        quote=quote,
    )


def proposition_readings(ev: Evidence, rec: Recommendation) -> list[Reading]:
    items = {hook.item for hook in rec.survey}
    out = []
    for p in ev.integration.propositions:
        if not p.verdict:
            continue
        if not items & set(p.items):
            continue
        status = {"supported": SUPPORTS, "not_supported": CONTRADICTS}.get(p.verdict, INCONCLUSIVE)
        fmt = effect_format(p.test)
        out.append(
            Reading(
                strand="Proposition test",
                what=f"Proposition {p.proposition_id} (locked before wave 2; verdict: "
                f"{p.verdict.replace('_', ' ')}): {p.statement}",
                result=(
                    "estimate ",
                    p.num("effect", fmt),
                    " (95% interval ",
                    p.num("ci_low", fmt),
                    " to ",
                    p.num("ci_high", fmt),
                    "); ",
                    p.num("n_cases", count),
                    " cases",
                ),
                status=status,
            )
        )
    return out


def readings(ev: Evidence, rec: Recommendation) -> list[Reading]:
    found: list[Reading] = []
    for wave in ev.waves:
        for hook in rec.survey:
            r = survey_reading(ev, wave.number, hook)
            if r is not None:
                found.append(r)
    for path in rec.codes:
        r = case_reading(ev, path)
        if r is not None:
            found.append(r)
    found += proposition_readings(ev, rec)
    return found


def strand_readings(found: list[Reading]) -> dict[str, str]:
    """Each strand's overall reading, by the rule in STRAND_RULES."""
    by_strand: dict[str, set[str]] = {}
    for r in found:
        by_strand.setdefault(r.strand, set()).add(r.status)
    out = {}
    for strand, statuses in sorted(by_strand.items()):
        if SUPPORTS in statuses and CONTRADICTS in statuses:
            out[strand] = MIXED
        elif SUPPORTS in statuses:
            out[strand] = SUPPORTS
        elif CONTRADICTS in statuses:
            out[strand] = CONTRADICTS
        elif INCONCLUSIVE in statuses:
            out[strand] = INCONCLUSIVE
        else:
            out[strand] = SILENT
    return out


def grade(strands: dict[str, str]) -> str:
    """The grade of a recommendation from its strands' readings, by GRADE_RULES."""
    supporting = [s for s, v in strands.items() if v == SUPPORTS]
    against = [s for s, v in strands.items() if v in (CONTRADICTS, MIXED)]
    survey = any(s.startswith("Survey") for s in supporting)
    proposition = strands.get("Proposition test")
    if (
        len(supporting) >= 3
        and not against
        and "Case studies" in supporting
        and survey
        and proposition in (None, SUPPORTS)
    ):
        return STRONG
    if len(supporting) >= 2 and not against:
        return MODERATE
    if supporting:
        return LIMITED
    return INSUFFICIENT


# --------------------------------------------------------------------------- the document


def build(ev: Evidence) -> tuple[str, str, tuple[Section, ...]]:
    graded = []
    for rec in RECOMMENDATIONS:
        found = readings(ev, rec)
        strands = strand_readings(found)
        graded.append((rec, found, strands, grade(strands)))
    made = [g for g in graded if g[3] != INSUFFICIENT]
    not_made = [g for g in graded if g[3] == INSUFFICIENT]
    sections = [
        _purpose(ev, made),
        _grading(),
        _recommendations(ev, made),
        _checklist(made),
        _summary(made),
    ]
    if not_made:
        sections.append(_not_made(not_made))
    sections.append(_findings_register(ev))
    return TITLE, SUBTITLE, tuple(s for s in sections if s is not None)


def _purpose(ev: Evidence, made) -> Section:
    blocks: list = [
        Para(
            (
                "This guidance is for the boards, executives and clinical leaders of integrated "
                "care boards, which took over from clinical commissioning groups (CCGs) in July "
                "2022, and for Health and Wellbeing Boards. It draws on a study of how CCGs "
                "engaged clinicians and used clinical leadership to redesign services, and what "
                "that achieved. The research questions apply unchanged to the bodies that "
                "commission services today.",
            ),
            "lead",
        )
    ]
    sources: list = []
    for wave in ev.waves:
        sources += [
            f"{wave.name}: ",
            wave.bucket_num("I"),
            " governing-body members answered",
        ]
        sources.append("; ")
    cw = ev.casework
    if cw.count("sites").value:
        sources += [
            "case studies at ",
            cw.count("sites").num(),
            " CCGs with ",
            cw.count("speakers").num(),
            " participants",
        ]
    elif sources:
        sources.pop()
    if sources:
        blocks.append(Para(("The evidence: ", *sources, ".")))
    counts = {g: sum(1 for m in made if m[3] == g) for g in (STRONG, MODERATE, LIMITED)}
    blocks.append(
        Para(
            (
                f"{len(made)} recommendations follow, graded by the strength of the evidence "
                f"behind them: {counts[STRONG]} strong, {counts[MODERATE]} moderate and "
                f"{counts[LIMITED]} limited. Each names the finding it rests on and the evidence "
                "from each strand of the study, so that a reader can judge it for their own "
                "setting.",
            )
        )
    )
    if ev.simulated:
        blocks.append(
            Para(
                (
                    "Simulated data: built from the demonstration study. The recommendations are "
                    "graded on simulated evidence and must not be used as guidance.",
                ),
                "callout",
            )
        )
    return Section("Who this guidance is for", tuple(blocks))


def _grading() -> Section:
    return Section(
        "How the recommendations are graded",
        (
            Para(
                (
                    "The study has up to four strands of evidence: the first national survey "
                    "(wave 1), the second (wave 2), the case studies, and the tests of case-study "
                    "propositions by the second survey. Each recommendation rests on one finding; "
                    "each strand is read against that finding by these rules:",
                )
            ),
            Bullets(tuple((rule,) for rule in STRAND_RULES)),
            Para(("The grade then follows from the strands:",)),
            Table(
                caption="Grades of recommendation and the rule for each.",
                columns=("Grade", "Rule"),
                rows=tuple((name, rule) for name, rule in GRADE_RULES),
                key="grading-rules",
            ),
        ),
    )


STATUS_WORDS = {
    SUPPORTS: "supports",
    CONTRADICTS: "contradicts",
    MIXED: "mixed",
    INCONCLUSIVE: "inconclusive",
    SILENT: "silent",
}


def _recommendations(ev: Evidence, made) -> Section:
    subsections = []
    for rec, found, strands, level in made:
        strand_text = "; ".join(f"{s}: {STATUS_WORDS[v]}" for s, v in strands.items())
        blocks: list = [
            Para((f"Grade: {level}. ", f"Strands — {strand_text}."), "callout"),
            Para((f"The finding: {rec.finding}",)),
            Heading(1, "What to do"),
            Bullets(tuple((a,) for a in rec.actions)),
            Heading(1, "The evidence"),
            Bullets(
                tuple(
                    (
                        f"{r.strand} — {r.what} Result: ",
                        *r.result,
                        f". Reading: {STATUS_WORDS[r.status]}.",
                    )
                    for r in found
                )
            )
            if found
            else Para(("No evidence for this finding is stored yet.",), "note"),
        ]
        quotes = [r.quote for r in found if r.quote is not None][:2]
        blocks += quotes
        linked = [
            f
            for f in ev.integration.findings
            if f.rq in rec.rqs and (not f.theme or any(f.theme in c for c in rec.codes))
        ]
        if linked:
            blocks.append(Heading(1, "Findings of the research team behind it"))
            blocks.append(
                Bullets(
                    tuple(
                        (
                            f"{f.strand_label}, RQ{f.rq}: {f.statement} Evidence linked: ",
                            _finding_num(f),
                            ".",
                        )
                        for f in linked
                    )
                )
            )
        rqs = ", ".join(f"RQ{n}" for n in rec.rqs)
        subsections.append(Section(f"{rec.key}. {rec.title} ({rqs})", tuple(blocks)))
    intro = Para(
        (
            "Recommendations in the order of the research questions. “Reading” says what each "
            "piece of evidence says about the finding under the rules above.",
        )
    )
    return Section("Recommendations", (intro,), tuple(subsections))


def _finding_num(f) -> Num:
    from .document import Cite

    return Num(
        count(len(f.evidence)),
        len(f.evidence),
        Cite(f"integration:finding/{f.finding_id}#evidence", f.cite().label, f.url),
    )


def _checklist(made) -> Section:
    rows = []
    for rec, _found, _strands, level in made:
        for i, question in enumerate(rec.questions, start=1):
            rows.append(
                (
                    f"{rec.key}.{i}",
                    question,
                    rec.good if i == 1 else "",
                    level,
                    "☐ In place   ☐ Partly   ☐ Not yet",
                )
            )
    return Section(
        "Self-assessment checklist",
        (
            Para(
                (
                    "Use the checklist with your board or clinical leadership group: answer each "
                    "question honestly, note the evidence for your answer, and start with the "
                    "areas rated “not yet” whose recommendation has the strongest evidence.",
                )
            ),
            Table(
                caption="Self-assessment: engaging clinicians in service redesign.",
                columns=(
                    "No.",
                    "Question for your organisation",
                    "What good looks like",
                    "Strength of evidence",
                    "Your rating",
                ),
                rows=tuple(rows),
                key="self-assessment",
            ),
        ),
    )


def _summary(made) -> Section:
    strands = sorted({s for _rec, _f, st, _g in made for s in st})
    rows = tuple(
        (
            f"{rec.key}. {rec.title}",
            *(STATUS_WORDS.get(st.get(s, SILENT), "silent") if s in st else "—" for s in strands),
            level,
        )
        for rec, _f, st, level in made
    )
    return Section(
        "Summary of the evidence",
        (
            Table(
                caption="Each recommendation's strands of evidence and its grade.",
                columns=("Recommendation", *strands, "Grade"),
                rows=rows,
                key="evidence-summary",
            ),
        ),
    )


def _not_made(not_made) -> Section:
    return Section(
        "Considered but not recommended on this evidence",
        (
            Para(
                (
                    "These recommendations were drafted from the study's questions, but no strand "
                    "of this study's evidence supports the finding behind them:",
                )
            ),
            Bullets(
                tuple((f"{rec.key}. {rec.title}: {rec.finding}",) for rec, _f, _s, _g in not_made)
            ),
        ),
    )


def _findings_register(ev: Evidence) -> Section:
    if not ev.integration.findings and not ev.integration.propositions:
        return Section(
            "Findings register",
            (
                Para(
                    (
                        "The study's integrated findings register (findings per strand and "
                        "research question, and the propositions tested by the second survey) is "
                        "not yet available. When it is, the findings behind each recommendation "
                        "are listed with it, and the proposition tests enter its grade.",
                    ),
                    "note",
                ),
            ),
        )
    rows = tuple(
        (f"RQ{f.rq}", f.strand_label, f.statement, _finding_num(f)) for f in ev.integration.findings
    )
    return Section(
        "Findings register",
        (
            Table(
                caption="The research team's findings, by research question and strand.",
                columns=("RQ", "Strand", "Finding", "Evidence linked"),
                rows=rows,
                key="findings-register",
            ),
        ),
    )
