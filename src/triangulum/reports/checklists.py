"""Reporting checklists filled from the study's own records: COREQ for the interviews,
GRAMMS for the mixed-methods design, and the AAPOR disclosure items for the surveys.
Pure: reads an ``Evidence`` bundle.

Each item is worded here in Triangulum's own short paraphrase (not the published text).
Its status comes from a check on the study's records: "addressed" where the record
exists (and ``where`` says which record and which part of the article pack shows it),
"missing" where it does not. Some items ask for things Triangulum keeps no structured
record of (the interviewer's credentials, say); a study memo whose title starts with the
item's tag — "COREQ 4", "GRAMMS 5", "AAPOR incentives" — marks them as addressed, so
the team can record them where they keep their other notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .document import Checklist, ChecklistItem
from .evidence import Evidence

ADDRESSED, MISSING, NOT_APPLICABLE = "addressed", "missing", "not applicable"

# Article-pack sections an item may point to (article.py uses the same titles).
DESIGN = "Design and methods"
SAMPLE = "Sample and frame"
OUTCOMES = "Survey outcomes"
LIKERT = "Likert items"
ROLES = "Comparisons by role"
TYPOLOGY = "Typology of engagement"
CASES = "Case studies"
INTEGRATION = "Integration"


@dataclass(frozen=True)
class Check:
    status: str
    where: str


Rule = Callable[[Evidence], Check]


def memo_check(tag: str, missing: str) -> Rule:
    """Addressed by a study memo titled "<tag>…", otherwise missing with ``missing``."""
    pattern = re.compile(rf"^\s*{re.escape(tag)}(?![0-9A-Za-z])", re.IGNORECASE)

    def rule(ev: Evidence) -> Check:
        for title in ev.casework.memo_titles:
            if pattern.match(title):
                return Check(ADDRESSED, f"Study memo “{title.split(' — ')[0]}”")
        return Check(
            MISSING, f"{missing} Record it in a study memo titled “{tag}: …” or in the manuscript."
        )

    return rule


def _either(*rules: Rule) -> Rule:
    """The first rule that finds the item addressed; else the last rule's answer."""

    def rule(ev: Evidence) -> Check:
        check = None
        for r in rules:
            check = r(ev)
            if check.status == ADDRESSED:
                return check
        return check

    return rule


# --------------------------------------------------------------------------- COREQ


def _interviews(ev: Evidence) -> int:
    cw = ev.casework
    return cw.count("sources/interview").value + cw.count("sources/group_interview").value


def _methodology(ev: Evidence) -> Check:
    cw = ev.casework
    if cw.matrices or cw.codes:
        parts = []
        if cw.codes:
            parts.append(
                f"an initial analytical framework of {len(cw.codes)} codes by research question"
            )
        if cw.matrices:
            parts.append(f"{cw.matrices} framework matrices (framework analysis)")
        return Check(ADDRESSED, f"{CASES}: " + " and ".join(parts))
    return Check(MISSING, "No codebook or framework matrix is recorded.")


def _case_sampling(ev: Evidence) -> Check:
    found = [
        s for s in ev.samples if s.phase_kind in ("pilot_case_studies", "in_depth_case_studies")
    ]
    if found:
        text = "; ".join(f"{s.name} ({s.method}, {s.units} sites)" for s in found)
        return Check(ADDRESSED, f"{DESIGN}: {text}")
    return Check(MISSING, "No sample of case-study sites is recorded.")


def _sample_size(ev: Evidence) -> Check:
    cw = ev.casework
    if cw.count("speakers").value:
        return Check(
            ADDRESSED,
            f"{CASES}: {cw.count('speakers').value} participants at {cw.count('sites').value} sites",
        )
    return Check(MISSING, "No participant is linked to a turn of a case-study source.")


def _sample_description(ev: Evidence) -> Check:
    roles = [k for k in ev.casework.counts if k.startswith("speakers/")]
    if roles:
        return Check(ADDRESSED, f"{CASES}: participants by role ({len(roles)} roles)")
    return Check(MISSING, "Participants' roles are not recorded.")


def _repeat(ev: Evidence) -> Check:
    if _interviews(ev):
        return Check(ADDRESSED, f"{CASES}: sources by kind and site (one source per interview)")
    return Check(NOT_APPLICABLE, "No interviews are recorded.")


def _recording(ev: Evidence) -> Check:
    media = [m for m in ev.casework.media_originals if m.startswith(("audio/", "video/"))]
    if media:
        return Check(ADDRESSED, f"{CASES}: original recordings stored ({', '.join(media)})")
    return memo_check("COREQ 19", "No audio or video original is stored with the sources.")(ev)


def _field_notes(ev: Evidence) -> Check:
    n = ev.casework.count("sources/observation_notes").value
    if n:
        return Check(ADDRESSED, f"{CASES}: {n} sets of observation notes")
    return memo_check("COREQ 20", "No observation notes are stored.")(ev)


def _duration(ev: Evidence) -> Check:
    if ev.casework.turn_timestamps:
        return Check(ADDRESSED, f"{CASES}: turns carry time stamps")
    return memo_check(
        "COREQ 21", "Interview durations are not recorded (turns carry no time stamps)."
    )(ev)


def _coders(ev: Evidence) -> Check:
    cw = ev.casework
    n = cw.count("coders").value
    if not n:
        return Check(MISSING, "No coding is recorded.")
    text = f"{CASES}: {n} coder{'s' if n != 1 else ''}"
    if cw.agreement is not None:
        text += f"; agreement checked on {cw.agreement.sources} double-coded sources"
    return Check(ADDRESSED, text)


def _coding_tree(ev: Evidence) -> Check:
    if ev.casework.codes:
        return Check(ADDRESSED, f"{CASES}: the codebook table (codes by research question)")
    return Check(MISSING, "No codebook is recorded.")


def _themes(ev: Evidence) -> Check:
    cw = ev.casework
    if cw.codebook_versions:
        emergent = [c for c in cw.codes if c.path.startswith("Emerging themes")]
        versions = cw.codebook_versions
        text = (
            f"{CASES}: initial framework from the research questions; {versions} codebook "
            f"version{'s' if versions != 1 else ''}"
        )
        if emergent:
            text += f"; {len(emergent)} codes under “Emerging themes”"
        return Check(ADDRESSED, text)
    return Check(MISSING, "No codebook version is recorded.")


def _software(ev: Evidence) -> Check:
    if ev.casework.count("codings").value:
        return Check(
            ADDRESSED, f"{CASES}: coded in Triangulum (provenance appendix gives its version)"
        )
    return Check(MISSING, "No coding is recorded.")


def _quotes(ev: Evidence) -> Check:
    if any(c.quotes for c in ev.casework.codes):
        return Check(
            ADDRESSED, "Quotations in the practitioner report and guidance, by role and pseudonym"
        )
    return Check(MISSING, "No quotable coded segment is recorded.")


def _consistency(ev: Evidence) -> Check:
    linked = [f for f in ev.integration.findings if any(not e.is_survey for e in f.evidence)]
    if linked:
        return Check(
            ADDRESSED, f"{INTEGRATION}: {len(linked)} findings cite coded case-study evidence"
        )
    return Check(MISSING, "No finding in the findings register cites case-study evidence.")


def _major_themes(ev: Evidence) -> Check:
    cw = ev.casework
    if cw.charted_cells:
        return Check(
            ADDRESSED, f"{CASES}: {cw.charted_cells} framework cells charted; codebook table"
        )
    if ev.integration.findings:
        return Check(ADDRESSED, f"{INTEGRATION}: findings register")
    return Check(MISSING, "No framework summary or finding is recorded.")


def _minor_themes(ev: Evidence) -> Check:
    codes = [c for c in ev.casework.codes if c.parent_path]
    if codes:
        return Check(
            ADDRESSED, f"{CASES}: codebook table gives every code's frequency, rare ones included"
        )
    return Check(MISSING, "No codebook is recorded.")


COREQ: tuple[tuple[str, str, Rule], ...] = (
    (
        "1",
        "Who conducted the interviews or focus groups",
        memo_check("COREQ 1", "Interviewers are not recorded."),
    ),
    ("2", "The researchers' credentials", memo_check("COREQ 2", "Not recorded.")),
    ("3", "Their occupations at the time", memo_check("COREQ 3", "Not recorded.")),
    ("4", "Their gender", memo_check("COREQ 4", "Not recorded.")),
    ("5", "Their experience and training", memo_check("COREQ 5", "Not recorded.")),
    (
        "6",
        "Whether a relationship existed before the study",
        memo_check("COREQ 6", "Not recorded."),
    ),
    (
        "7",
        "What participants knew about the researchers and their aims",
        memo_check("COREQ 7", "Not recorded."),
    ),
    (
        "8",
        "What was reported about the interviewer (assumptions, interests)",
        memo_check("COREQ 8", "Not recorded."),
    ),
    ("9", "The methodological orientation behind the analysis", _methodology),
    ("10", "How participants were sampled", _case_sampling),
    ("11", "How participants were approached", memo_check("COREQ 11", "Not recorded.")),
    ("12", "How many took part", _sample_size),
    (
        "13",
        "How many refused or dropped out, and why",
        memo_check("COREQ 13", "Refusals for the case studies are not recorded."),
    ),
    (
        "14",
        "Where the data were collected",
        memo_check("COREQ 14", "The setting of each interview is not recorded."),
    ),
    ("15", "Whether anyone else was present", memo_check("COREQ 15", "Not recorded.")),
    ("16", "The important characteristics of the sample", _sample_description),
    (
        "17",
        "Whether an interview guide was used and piloted",
        memo_check("COREQ 17", "No interview guide is stored."),
    ),
    ("18", "Whether interviews were repeated", _repeat),
    ("19", "Audio or video recording", _recording),
    ("20", "Field notes", _field_notes),
    ("21", "How long interviews lasted", _duration),
    ("22", "Whether data saturation was discussed", memo_check("COREQ 22", "Not recorded.")),
    (
        "23",
        "Whether transcripts went back to participants",
        memo_check("COREQ 23", "Not recorded."),
    ),
    ("24", "How many people coded the data", _coders),
    ("25", "A description of the coding tree", _coding_tree),
    ("26", "Whether themes were set in advance or derived from the data", _themes),
    ("27", "Software used to manage the data", _software),
    ("28", "Whether participants checked the findings", memo_check("COREQ 28", "Not recorded.")),
    ("29", "Quotations presented and identified (by pseudonym)", _quotes),
    ("30", "Consistency between the data and the findings", _consistency),
    ("31", "Major themes clearly presented", _major_themes),
    ("32", "Diverse cases and minor themes discussed", _minor_themes),
)


# --------------------------------------------------------------------------- GRAMMS

QUAL = ("pilot_case_studies", "in_depth_case_studies")
QUANT = ("national_survey_wave", "generalisation_survey_wave")


def _justification(ev: Evidence) -> Check:
    kinds = {kind for _o, kind, _n, _s, _p in ev.study.phases}
    if ev.study.aim and ev.study.rqs and kinds & set(QUAL) and kinds & set(QUANT):
        return Check(
            ADDRESSED,
            f"{DESIGN}: the aim, {len(ev.study.rqs)} research questions, and phases of both kinds",
        )
    return Check(MISSING, "The protocol lacks an aim, research questions, or phases of both kinds.")


def _design(ev: Evidence) -> Check:
    phases = ev.study.phases
    if (
        phases
        and {k for _o, k, *_ in phases} & set(QUAL)
        and {k for _o, k, *_ in phases} & set(QUANT)
    ):
        order = " → ".join(name for _o, _k, name, _s, _p in phases)
        return Check(ADDRESSED, f"{DESIGN}: phases in order: {order}")
    return Check(MISSING, "The phases of the design are not recorded.")


def _each_method(ev: Evidence) -> Check:
    missing = []
    if not any(s.phase_kind in QUAL for s in ev.samples):
        missing.append("a sample of case-study sites")
    if not ev.waves:
        missing.append("a survey wave")
    if not ev.runs:
        missing.append("a survey analysis run")
    if not ev.casework.count("codings").value:
        missing.append("coded case-study material")
    if missing:
        return Check(MISSING, "Not recorded: " + ", ".join(missing) + ".")
    return Check(
        ADDRESSED,
        f"{DESIGN}, {SAMPLE}, {OUTCOMES} (surveys); {CASES} (case studies)",
    )


def _integration_where(ev: Evidence) -> Check:
    integ = ev.integration
    parts = []
    if integ.themes:
        parts.append(f"convergence coding of {len(integ.themes)} themes")
    if integ.propositions:
        parts.append(f"{len(integ.propositions)} propositions tested by wave 2")
    if integ.displays:
        parts.append(f"{len(integ.displays)} joint displays")
    if parts:
        return Check(ADDRESSED, f"{INTEGRATION}: " + "; ".join(parts))
    return Check(
        MISSING, "No integration record (convergence matrix, propositions, joint displays)."
    )


def _insights(ev: Evidence) -> Check:
    integ = ev.integration
    inferences = sum(1 for d in integ.displays for r in d.rows if r.meta_inference)
    if inferences or integ.assessments:
        return Check(
            ADDRESSED,
            f"{INTEGRATION}: {inferences} meta-inferences in joint displays; "
            f"{len(integ.assessments)} global assessments",
        )
    return Check(MISSING, "No meta-inference or global assessment is recorded.")


GRAMMS: tuple[tuple[str, str, Rule], ...] = (
    ("1", "Why a mixed-methods approach suits the research questions", _justification),
    ("2", "The design: purpose, priority and sequence of the methods", _design),
    ("3", "Each method's sampling, data collection and analysis", _each_method),
    ("4", "Where integration happened, how, and who took part", _integration_where),
    (
        "5",
        "Limitations of one method that the other brings out",
        memo_check("GRAMMS 5", "Not recorded."),
    ),
    ("6", "Insights gained from mixing or integrating the methods", _insights),
)


# --------------------------------------------------------------------------- AAPOR


def _all_waves(test, where: Callable[[Evidence], str], missing: str) -> Rule:
    def rule(ev: Evidence) -> Check:
        if not ev.waves:
            return Check(MISSING, "No survey wave is recorded.")
        bad = [w.number for w in ev.waves if not test(ev, w)]
        if bad:
            return Check(MISSING, f"{missing} (wave {', '.join(map(str, bad))}).")
        return Check(ADDRESSED, where(ev))

    return rule


def _wave_sample(ev: Evidence, wave) -> bool:
    return any(s.phase_kind == wave.phase_kind for s in ev.samples)


def _field(name: str, missing: str, where: str) -> Rule:
    def rule(ev: Evidence) -> Check:
        value = getattr(ev.study, name)
        return Check(ADDRESSED, f"{where}: {value}") if value else Check(MISSING, missing)

    return rule


def _step(name: str, where: str, missing: str) -> Rule:
    def rule(ev: Evidence) -> Check:
        if any(run.step == name for run in ev.runs):
            return Check(ADDRESSED, where)
        return Check(MISSING, missing)

    return rule


def _contact(ev: Evidence) -> Check:
    if dict(ev.study.team_roles).get("lead") and ev.study.host:
        return Check(ADDRESSED, f"{DESIGN}: the study lead at {ev.study.host}")
    return Check(MISSING, "No study lead or host institution is recorded.")


AAPOR: tuple[tuple[str, str, Rule], ...] = (
    (
        "A1",
        "Who sponsored and funded the survey",
        _field("funder", "No funder is recorded.", DESIGN),
    ),
    ("A2", "Who conducted it", _field("host", "No host institution is recorded.", DESIGN)),
    (
        "A3",
        "The exact wording of the questions and answer options",
        _all_waves(
            lambda ev, w: bool(w.instrument_sha256),
            lambda ev: (
                "Instruments of every wave stored as XLSForms (provenance appendix: versions and hashes)"
            ),
            "No instrument version is stored",
        ),
    ),
    (
        "A4",
        "The population the survey describes",
        _all_waves(
            lambda ev, w: w.frame_vintage in ev.frames,
            lambda ev: f"{SAMPLE}: governing-body members of the CCGs open at each frame date",
            "No frame date is recorded",
        ),
    ),
    (
        "A5",
        "The sampling frame and how well it covers the population",
        _all_waves(
            lambda ev, w: w.frame_vintage in ev.frames and ev.frames[w.frame_vintage].total > 0,
            lambda ev: f"{SAMPLE}: Table 1 sets respondents against the frame",
            "No frame of organisations at the wave's date",
        ),
    ),
    (
        "A6",
        "How the sample was designed and selected",
        _all_waves(
            _wave_sample,
            lambda ev: f"{DESIGN}: the sample of each survey phase, its method and seed",
            "No sample is recorded for the wave's phase",
        ),
    ),
    (
        "A7",
        "Sample sizes: cases fielded and interviews completed",
        _all_waves(
            lambda ev, w: w.cases > 0,
            lambda ev: f"{OUTCOMES}: disposition table",
            "No case is recorded",
        ),
    ),
    (
        "A8",
        "The precision of the estimates and the design used for it",
        _step(
            "likert",
            f"{LIKERT}: 95% intervals with the design (members clustered in CCGs)",
            "No stored estimate with intervals.",
        ),
    ),
    (
        "A9",
        "How the data were weighted",
        _step(
            "weighting",
            f"{SAMPLE}: weights table (class adjustment, raking, trimming)",
            "No weighting run is stored.",
        ),
    ),
    (
        "A10",
        "Modes and dates of data collection",
        _all_waves(
            lambda ev, w: bool(w.modes and w.field_start and w.field_end),
            lambda ev: f"{DESIGN}: survey waves table",
            "Modes or fieldwork dates are not recorded",
        ),
    ),
    (
        "A11",
        "Final dispositions and outcome rates, with their definitions",
        _all_waves(
            lambda ev, w: bool(w.buckets) and w.rates.get("RR1") is not None,
            lambda ev: f"{OUTCOMES}: AAPOR dispositions and rates (Standard Definitions)",
            "Dispositions are not recorded",
        ),
    ),
    (
        "A12",
        "The languages the survey was offered in",
        _all_waves(
            lambda ev, w: bool(w.languages),
            lambda ev: f"{DESIGN}: instruments' languages",
            "The instrument declares no language",
        ),
    ),
    ("A13", "Any incentives offered", memo_check("AAPOR incentives", "Not recorded.")),
    (
        "A14",
        "How “don't know” and missing answers were treated",
        _step(
            "likert",
            f"{LIKERT}: table notes (kept out of every denominator, counted apart)",
            "No Likert analysis is stored.",
        ),
    ),
    ("A15", "Whom to contact for more information", _contact),
)


def fill(
    items: tuple[tuple[str, str, Rule], ...], ev: Evidence, prefix: str = ""
) -> tuple[ChecklistItem, ...]:
    out = []
    for number, wording, rule in items:
        check = rule(ev)
        out.append(ChecklistItem(f"{prefix}{number}", wording, check.where, check.status))
    return tuple(out)


def coreq(ev: Evidence) -> Checklist:
    return Checklist(
        "COREQ: consolidated criteria for reporting the interviews and group interviews "
        "(32 items, paraphrased).",
        fill(COREQ, ev),
    )


def gramms(ev: Evidence) -> Checklist:
    return Checklist(
        "GRAMMS: good reporting of a mixed-methods study (6 items, paraphrased).",
        fill(GRAMMS, ev),
    )


def aapor(ev: Evidence) -> Checklist:
    return Checklist(
        "AAPOR disclosure items for the national surveys (paraphrased).",
        fill(AAPOR, ev),
    )


def all_checklists(ev: Evidence) -> tuple[Checklist, ...]:
    return coreq(ev), gramms(ev), aapor(ev)
