"""What a report may say about a study, read once from the database.

This is the one module of the reports' content that touches the database. ``collect``
reads the study's protocol, samples, survey waves (dispositions and AAPOR rates), the
latest successful analysis run of each step, the case studies (pseudonymised quotes,
codes, sites, initiatives) and the integration records, and returns an ``Evidence``
bundle of plain values. The report builders (practitioner, guidance, article,
checklists) shape that bundle into a ``Report`` without further queries.

Every number a report prints is a ``Num`` made here, so its ``Cite.ref`` names the record
and the cell it came from. ``resolve(study, ref)`` reads that value again, independently
of ``collect``; the tests compare the two. The grammar of refs:

- ``analysis:<step>/<result>@run<id>#r<row>/<column>``: one cell of a stored table;
  ``…#count/<column>=<value>``: the number of its rows with that value.
- ``fieldwork:wave/<n>#<key>``: ``cases``, ``e``, ``rate/<RR1…>``, ``bucket/<I…NE>``,
  ``code/<AAPOR code>``, ``mode/<mode>`` (complete interviews by mode).
- ``frame:ccg@<date>#count`` and ``frame:ccg@<date>/region/<name>#count``.
- ``sample:<id>#units`` and ``sample:<id>#frame_size``.
- ``casework:<what>#count`` for counts of sources, speakers, codings, codes, sites,
  initiatives, codebook versions, pseudonymisation candidates;
  ``casework:site/<organisation id>/sources/<kind>#count`` (and ``/speakers/<role>``);
  ``casework:code/<id>#segments|sources|sites``;
  ``casework:agreement#kappa|alpha|sources``.
- ``organisations:typology_class_<slug>=<k>#count``.
- ``integration:proposition/<id>#<field>``, ``integration:finding/<id>#evidence`` (links),
  ``integration:propositions/tested#count``, ``integration:propositions/verdict/<v>#count``;
  ``segment:<coding id>`` for a quote;
  ``finding:<id>``, ``display:<slug>``, ``theme:<id>`` for statements.

Privacy: quotes are the pseudonymised rendering of coded segments (ADR 0016) and, on
top of it, every name the study's register knows and every e-mail, telephone number,
NHS number or postcode is replaced again here — so identifiers still awaiting review, or
added to the register after the last scan, never reach a report. Quotes are attributed
by role and pseudonym only; free text written by researchers (finding statements,
initiative names, meta-inferences) goes through the same scrubber.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .document import Cite, Num

# --------------------------------------------------------------------------- formatting


def pct(value: float, digits: int = 0) -> str:
    """0.5827 → "58%" (digits after the point as asked); a true minus sign."""
    return f"{100 * value:.{digits}f}%".replace("-", "−")


def dec(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace("-", "−")


def pvalue(value: float) -> str:
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}"


def count(value: float) -> str:
    return f"{int(round(value)):,}"


def signed_points(value: float, digits: int = 0) -> str:
    """A difference in shares as percentage points: 0.21 → "+21 points"."""
    points = 100 * value
    text = f"{abs(points):.{digits}f}"
    sign = "+" if points > 0 else "−" if points < 0 else "±"
    return f"{sign}{text} points"


def effect_format(test: str) -> Callable:
    """How a proposition's estimate reads: a share, a difference of shares, or a mean."""
    if test == "proportion":
        return pct
    if test == "difference":
        return lambda v: signed_points(v, 1)
    return dec


def is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


MISSING = "–"


# --------------------------------------------------------------------------- analysis results


@dataclass(frozen=True)
class ResultTable:
    """One stored analysis table (the latest successful run of its step)."""

    result_id: int
    run_id: int
    step: str
    name: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[Mapping, ...]
    url: str
    simulated: bool

    @property
    def ref_base(self) -> str:
        return f"analysis:{self.step}/{self.name}@run{self.run_id}"

    def cite(self, row: int | None = None, column: str | None = None, label: str = "") -> Cite:
        ref = self.ref_base if row is None else f"{self.ref_base}#r{row}/{column}"
        return Cite(ref, label or f"Analysis result {self.name} ({self.step})", self.url)

    def value(self, row: int, column: str):
        return self.rows[row].get(column)

    def num(self, row: int | None, column: str, fmt: Callable = pct, label: str = "") -> Num | str:
        """The cell as a Num, or "–" where it is empty or not a number."""
        if row is None:
            return MISSING
        value = self.value(row, column)
        if not is_number(value):
            return MISSING
        return Num(fmt(value), value, self.cite(row, column, label))

    def count_num(self, column: str, value, label: str = "") -> Num:
        n = sum(1 for row in self.rows if row.get(column) == value)
        return Num(
            count(n),
            n,
            Cite(
                f"{self.ref_base}#count/{column}={value}",
                label or f"Rows of {self.name} with {column} = {value}",
                self.url,
            ),
        )

    def where(self, **match) -> list[int]:
        return [
            i
            for i, row in enumerate(self.rows)
            if all(row.get(key) == wanted for key, wanted in match.items())
        ]

    def first(self, **match) -> int | None:
        found = self.where(**match)
        return found[0] if found else None


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    step: str
    seed: int
    inputs_hash: str
    code_version: str
    parameters: Mapping
    simulated: bool


@dataclass(frozen=True)
class ItemFacts:
    """A questionnaire item as the instruments define it."""

    name: str
    label: str
    rqs: tuple[int, ...]
    list_name: str
    type: str
    scale: tuple[str, ...]
    scale_labels: tuple[str, ...]
    waves: tuple[int, ...]


# --------------------------------------------------------------------------- fieldwork


@dataclass(frozen=True)
class WaveFacts:
    number: int
    name: str
    phase_name: str
    phase_kind: str
    frame_vintage: str
    field_start: str
    field_end: str
    modes: tuple[str, ...]
    max_attempts: int
    instrument_title: str
    instrument_version: str
    instrument_sha256: str
    languages: tuple[str, ...]
    simulated: bool
    cases: int
    buckets: Mapping[str, float]
    codes: tuple[tuple[str, int], ...]
    e: float | None
    e_method: str
    rates: Mapping[str, float | None]
    completes_by_mode: tuple[tuple[str, int], ...]
    code_labels: Mapping[str, str]
    url: str

    def _cite(self, key: str, label: str) -> Cite:
        return Cite(f"fieldwork:wave/{self.number}#{key}", label, self.url)

    def rate_num(self, rate: str, digits: int = 1) -> Num | str:
        value = self.rates.get(rate)
        if value is None:
            return MISSING
        return Num(
            pct(value, digits), value, self._cite(f"rate/{rate}", f"Wave {self.number}: {rate}")
        )

    def e_num(self) -> Num | str:
        if self.e is None:
            return MISSING
        return Num(dec(self.e, 3), self.e, self._cite("e", f"Wave {self.number}: e"))

    def bucket_num(self, bucket: str) -> Num:
        value = self.buckets.get(bucket, 0)
        return Num(
            count(value), value, self._cite(f"bucket/{bucket}", f"Wave {self.number}: {bucket}")
        )

    def code_num(self, code: str) -> Num:
        value = dict(self.codes).get(code, 0)
        return Num(
            count(value), value, self._cite(f"code/{code}", f"Wave {self.number}: code {code}")
        )

    def cases_num(self) -> Num:
        return Num(count(self.cases), self.cases, self._cite("cases", f"Wave {self.number}: cases"))

    def mode_num(self, mode: str) -> Num:
        value = dict(self.completes_by_mode).get(mode, 0)
        return Num(
            count(value),
            value,
            self._cite(f"mode/{mode}", f"Wave {self.number}: complete interviews by {mode}"),
        )


@dataclass(frozen=True)
class FrameFacts:
    """CCGs open at one vintage: in all and by region."""

    vintage: str
    total: int
    by_region: tuple[tuple[str, int], ...]
    url: str

    def total_num(self) -> Num:
        return Num(
            count(self.total),
            self.total,
            Cite(f"frame:ccg@{self.vintage}#count", f"CCGs open on {self.vintage}", self.url),
        )

    def region_num(self, region: str) -> Num | str:
        found = dict(self.by_region)
        if region not in found:
            return MISSING
        return Num(
            count(found[region]),
            found[region],
            Cite(
                f"frame:ccg@{self.vintage}/region/{region}#count",
                f"CCGs open on {self.vintage} in {region}",
                self.url,
            ),
        )


@dataclass(frozen=True)
class SampleFacts:
    sample_id: int
    name: str
    method: str
    phase_kind: str
    phase_name: str
    frame_size: int
    units: int
    seed: int | None
    vintage: str
    inputs_hash: str
    simulated: bool
    url: str

    def units_num(self) -> Num:
        return Num(
            count(self.units),
            self.units,
            Cite(f"sample:{self.sample_id}#units", f"Sample: {self.name}", self.url),
        )

    def frame_num(self) -> Num:
        return Num(
            count(self.frame_size),
            self.frame_size,
            Cite(f"sample:{self.sample_id}#frame_size", f"Frame of sample: {self.name}", self.url),
        )


# --------------------------------------------------------------------------- casework


@dataclass(frozen=True)
class Counted:
    """A count of case-study records, citable."""

    key: str
    label: str
    value: int
    url: str = ""

    def num(self) -> Num:
        return Num(
            count(self.value), self.value, Cite(f"casework:{self.key}#count", self.label, self.url)
        )


@dataclass(frozen=True)
class QuoteFacts:
    coding_id: int
    code_id: int
    code_name: str
    text: str  # pseudonymised and scrubbed
    attribution: str  # role + pseudonym (+ site pseudonym)
    role_category: str
    site_label: str
    phase_kind: str
    source_kind: str
    url: str

    def cite(self) -> Cite:
        return Cite(f"segment:{self.coding_id}", f"Coded segment ({self.code_name})", self.url)


@dataclass(frozen=True)
class CodeFacts:
    code_id: int
    path: str
    name: str
    parent_path: str
    rqs: tuple[int, ...]
    definition: str
    has_inclusion: bool
    has_exclusion: bool
    has_example: bool
    segments: int  # codings of this code and its sub-codes, any coder
    sources: int
    sites: int
    quotes: tuple[QuoteFacts, ...]
    url: str

    def _num(self, what: str, value: int) -> Num:
        return Num(
            count(value),
            value,
            Cite(f"casework:code/{self.code_id}#{what}", f"Code {self.path}: {what}", self.url),
        )

    def segments_num(self) -> Num:
        return self._num("segments", self.segments)

    def sources_num(self) -> Num:
        return self._num("sources", self.sources)

    def sites_num(self) -> Num:
        return self._num("sites", self.sites)


@dataclass(frozen=True)
class SiteFacts:
    organisation_id: int
    label: str  # the study's pseudonym for the site ("CCG C")
    phase_kind: str  # "pilot_case_studies" | "in_depth_case_studies" | ""
    sources: int
    source_kinds: tuple[tuple[str, int], ...]
    typology_row: int | None  # row of typology_membership for this organisation
    initiatives: tuple[InitiativeFacts, ...]
    speakers_by_role: tuple[tuple[str, int], ...]
    quotes: tuple[QuoteFacts, ...]
    url: str = ""

    def sources_num(self, kind: str) -> Num:
        value = dict(self.source_kinds).get(kind, 0)
        return Num(
            count(value),
            value,
            Cite(
                f"casework:site/{self.organisation_id}/sources/{kind}#count",
                f"{self.label}: sources ({kind})",
                self.url,
            ),
        )

    def speakers_num(self, role: str) -> Num:
        value = dict(self.speakers_by_role).get(role, 0)
        return Num(
            count(value),
            value,
            Cite(
                f"casework:site/{self.organisation_id}/speakers/{role}#count",
                f"{self.label}: participants ({role})",
                self.url,
            ),
        )


@dataclass(frozen=True)
class InitiativeFacts:
    initiative_id: int
    name: str  # scrubbed
    status: str
    sectors: tuple[str, ...]
    benefits: tuple[str, ...]
    site_label: str
    sources: int
    simulated: bool


@dataclass(frozen=True)
class AgreementFacts:
    sources: int
    coders: int
    kappa: float | None  # Cohen's kappa over characters some coder coded (overall)
    alpha: float | None
    url: str

    def num(self, what: str) -> Num | str:
        value = {"kappa": self.kappa, "alpha": self.alpha, "sources": self.sources}[what]
        if value is None:
            return MISSING
        text = count(value) if what == "sources" else dec(value, 2)
        return Num(
            text, value, Cite(f"casework:agreement#{what}", f"Coder agreement: {what}", self.url)
        )


@dataclass(frozen=True)
class CaseworkFacts:
    counts: Mapping[str, Counted]  # by key
    codes: tuple[CodeFacts, ...]  # tree order
    sites: tuple[SiteFacts, ...]
    initiatives: tuple[InitiativeFacts, ...]
    benefits: tuple[tuple[str, int], ...]  # benefit → initiatives targeting it
    agreement: AgreementFacts | None
    memo_titles: tuple[str, ...]  # scrubbed, for checklist look-ups
    codebook_versions: int
    matrices: int
    charted_cells: int
    turn_timestamps: bool
    media_originals: tuple[str, ...]  # media types of stored originals
    pseudonyms: Mapping[str, int]  # candidates by status
    coder_roles: tuple[str, ...]
    simulated: bool

    def count(self, key: str) -> Counted:
        return self.counts.get(key) or Counted(key, key, 0)

    def code(self, path: str) -> CodeFacts | None:
        return next((c for c in self.codes if c.path == path), None)


# --------------------------------------------------------------------------- integration


@dataclass(frozen=True)
class EvidenceLink:
    kind: str  # integration Evidence.Kind value
    label: str
    cite: Cite
    is_survey: bool


@dataclass(frozen=True)
class FindingFacts:
    finding_id: int
    strand: str
    strand_label: str
    rq: int
    theme: str
    statement: str
    evidence: tuple[EvidenceLink, ...]
    url: str

    def cite(self) -> Cite:
        return Cite(
            f"finding:{self.finding_id}",
            f"Finding {self.finding_id} ({self.strand_label}, RQ{self.rq})",
            self.url,
        )


@dataclass(frozen=True)
class PropositionFacts:
    proposition_id: int
    rq: int
    statement: str
    items: tuple[str, ...]
    test: str
    direction: str
    support_rule: str
    status: str
    locked: bool
    verdict: str  # "" until tested
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n_cases: int | None
    theme: str
    finding_id: int | None
    url: str

    def num(self, what: str, fmt: Callable = dec) -> Num | str:
        value = getattr(self, what)
        if not is_number(value):
            return MISSING
        return Num(
            fmt(value),
            value,
            Cite(
                f"integration:proposition/{self.proposition_id}#{what}",
                f"Proposition {self.proposition_id}: {what}",
                self.url,
            ),
        )

    def cite(self) -> Cite:
        return Cite(
            f"proposition:{self.proposition_id}", f"Proposition {self.proposition_id}", self.url
        )


@dataclass(frozen=True)
class ThemeFacts:
    theme_id: int
    rq: int
    name: str
    code_path: str
    settled: tuple[tuple[str, str, str], ...]  # (strand a, strand b, code)
    url: str


@dataclass(frozen=True)
class DisplayRowFacts:
    row_id: int
    label: str
    meta_inference: str
    cells: tuple[tuple[str, str, int, int], ...]  # (column key, text, survey links, case links)


@dataclass(frozen=True)
class DisplayFacts:
    display_id: int
    slug: str
    kind: str
    kind_label: str
    title: str
    rq: int | None
    columns: tuple[tuple[str, str], ...]  # (key, label)
    rows: tuple[DisplayRowFacts, ...]
    url: str

    def cite(self) -> Cite:
        return Cite(f"display:{self.slug}", f"Joint display: {self.title}", self.url)


@dataclass(frozen=True)
class IntegrationFacts:
    findings: tuple[FindingFacts, ...]
    themes: tuple[ThemeFacts, ...]
    assessments: tuple[tuple[int, str], ...]  # (rq, text)
    propositions: tuple[PropositionFacts, ...]
    displays: tuple[DisplayFacts, ...]
    qca_runs: int
    simulated: bool

    @property
    def empty(self) -> bool:
        return not (self.findings or self.themes or self.propositions or self.displays)

    def verdict_num(self, verdict: str | None = None) -> Num:
        """Propositions tested (``verdict`` None) or with that verdict."""
        tested = [p for p in self.propositions if p.verdict]
        value = len(tested) if verdict is None else sum(p.verdict == verdict for p in tested)
        key = "tested" if verdict is None else f"verdict/{verdict}"
        return Num(
            count(value),
            value,
            Cite(f"integration:propositions/{key}#count", f"Propositions {key}", ""),
        )


# --------------------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class StudyFacts:
    slug: str
    title: str
    short_title: str
    funder: str
    funding_amount: str
    host: str
    start_date: str
    end_date: str
    aim: str
    secondary_focus: str
    stakeholder_groups: tuple[str, ...]
    care_sectors: tuple[str, ...]
    rqs: tuple[tuple[int, str, str], ...]  # (number, short name, text)
    phases: tuple[tuple[int, str, str, str, str], ...]  # (order, kind, name, status, produces)
    team_roles: tuple[tuple[str, int], ...]  # role → members
    simulated: bool
    url: str

    def rq(self, number: int) -> tuple[int, str, str] | None:
        return next((r for r in self.rqs if r[0] == number), None)


@dataclass(frozen=True)
class Evidence:
    study: StudyFacts
    results: Mapping[str, ResultTable]
    runs: tuple[RunFacts, ...]
    items: Mapping[str, ItemFacts]
    waves: tuple[WaveFacts, ...]
    frames: Mapping[str, FrameFacts]  # by vintage
    samples: tuple[SampleFacts, ...]
    casework: CaseworkFacts
    integration: IntegrationFacts
    typology_attribute: str
    typology_counts: tuple[tuple[int, int], ...]  # (class, organisations carrying it)
    simulated: bool
    simulated_sources: tuple[str, ...] = field(default=())

    def result(self, name: str) -> ResultTable | None:
        return self.results.get(name)

    def wave(self, number: int) -> WaveFacts | None:
        return next((w for w in self.waves if w.number == number), None)

    def typology_count_num(self, cls: int) -> Num | str:
        found = dict(self.typology_counts)
        if cls not in found:
            return MISSING
        return Num(
            count(found[cls]),
            found[cls],
            Cite(
                f"organisations:{self.typology_attribute}={cls}#count",
                f"Organisations in typology class {cls}",
                "",
            ),
        )

    def items_for_rq(self, rq: int) -> list[ItemFacts]:
        return [item for item in self.items.values() if rq in item.rqs]

    def snapshot_hash(self) -> str:
        """A hash of what the report reads that the analysis runs' hashes do not cover."""
        digest = hashlib.sha256()
        payload = {
            "waves": [(w.number, w.cases, sorted(w.codes)) for w in self.waves],
            "codes": [
                (c.path, c.segments, c.sources, [q.coding_id for q in c.quotes])
                for c in self.casework.codes
            ],
            "sites": [(s.label, s.sources) for s in self.casework.sites],
            "initiatives": [(i.initiative_id, i.status) for i in self.casework.initiatives],
            "findings": [(f.finding_id, f.statement) for f in self.integration.findings],
            "propositions": [
                (p.proposition_id, p.verdict, p.effect) for p in self.integration.propositions
            ],
            "displays": [(d.slug, len(d.rows)) for d in self.integration.displays],
        }
        digest.update(json.dumps(payload, sort_keys=True, default=str).encode("utf-8"))
        return digest.hexdigest()


# =========================================================================== shared shaping
# Pure helpers the three builders share: picking a wave's stored share for an item,
# and drawing a Likert chart from the stored distributions.


def lower_first(text: str) -> str:
    """ "Clinicians holding roles" → "clinicians holding roles"; "NHS England" stays."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def short_label(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def share_agreeing(ev: Evidence, wave: int, item: str) -> tuple[ResultTable, int] | None:
    table = ev.result(f"wave{wave}_share_agreeing")
    if table is None:
        return None
    row = table.first(item=item)
    return None if row is None else (table, row)


def share_num(ev: Evidence, wave: int, item: str, column: str = "share", digits: int = 0):
    found = share_agreeing(ev, wave, item)
    if found is None:
        return MISSING
    table, row = found
    return table.num(row, column, lambda v: pct(v, digits))


def latest_wave_with(ev: Evidence, item: str) -> int | None:
    waves = [w.number for w in ev.waves if share_agreeing(ev, w.number, item)]
    return max(waves) if waves else None


def answer_share(ev: Evidence, wave: int, item: str, answer: str, digits: int = 0):
    """The stored share of one answer (of the substantive answers) to an item."""
    table = ev.result(f"wave{wave}_distributions")
    if table is None:
        return MISSING
    return table.num(table.first(item=item, answer=answer), "share", lambda v: pct(v, digits))


def likert_figure(ev: Evidence, wave: int, items: list[str], title: str, caption: str):
    """A diverging stacked bar chart of the items' stored answer shares, or None."""
    from .document import Figure
    from .figures import diverging_likert

    table = ev.result(f"wave{wave}_distributions")
    if table is None:
        return None
    labels, shares, categories = [], [], None
    for name in items:
        rows = [table.rows[i] for i in table.where(item=name, substantive=True)]
        info = ev.items.get(name)
        if not rows or info is None:
            continue
        by_answer = {r["answer"]: r for r in rows}
        if categories is None:
            categories = [by_answer[a]["answer_label"] for a in info.scale if a in by_answer]
        row_shares = [by_answer[a]["share"] or 0.0 for a in info.scale if a in by_answer]
        if len(row_shares) != len(categories):
            continue
        # The chart leaves room for about 45 characters of label (analysis/svg.py).
        labels.append(short_label(info.label, 45))
        shares.append(row_shares)
    if not labels:
        return None
    svg = diverging_likert(labels, list(categories), shares, title)
    spoken = "; ".join(
        f"{label}: " + ", ".join(f"{c} {pct(v)}" for c, v in zip(categories, row, strict=True))
        for label, row in zip(labels, shares, strict=True)
    )
    return Figure(
        caption=caption,
        svg=svg,
        alt=f"{title}. Shares of substantive answers: {spoken}.",
        cite=table.cite(label=f"{table.caption.split('.')[0]} (stored answer shares)"),
        key=f"likert-w{wave}-{items[0]}",
    )


# =========================================================================== reading

ROLE_LABELS_PLAIN = {
    "gp_member": "GP member",
    "chair": "chair",
    "accountable_officer": "accountable officer",
    "chief_finance_officer": "chief finance officer",
    "nurse": "nurse member",
    "secondary_care_doctor": "secondary-care doctor",
    "lay_member": "lay member",
    "manager": "manager",
    "la_officer": "local authority officer",
    "councillor": "councillor",
    "hwb_member": "Health and Wellbeing Board member",
    "patient_representative": "patient representative",
    "other_clinician": "clinician",
}
PHASE_SITE_WORDS = {
    "pilot_case_studies": "pilot site",
    "in_depth_case_studies": "in-depth site",
}
QUOTES_PER_CODE = 3
QUOTES_PER_SITE = 2
QUOTE_MIN, QUOTE_MAX = 40, 420


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _study_url(study, tail: str = "") -> str:
    return f"/studies/{study.slug}/{tail}"


def collect(study) -> Evidence:
    """Everything the three reports may print about ``study``, read once."""
    scrub, register = make_scrubber(study)
    results, runs = _analysis(study)
    waves = _waves(study)
    items = _items(study)
    frames = _frames(study, waves)
    samples = _samples(study)
    casework = _casework(study, scrub, register, results)
    integration = _integration(study, scrub)
    typology_attribute = f"typology_class_{study.slug}"
    typology_counts = _typology_counts(typology_attribute)
    facts = _study(study)
    reasons = []
    if facts.simulated:
        reasons.append("study")
    if any(r.simulated for r in runs):
        reasons.append("analysis runs")
    if any(w.simulated for w in waves):
        reasons.append("survey waves")
    if any(s.simulated for s in samples):
        reasons.append("samples")
    if casework.simulated:
        reasons.append("case-study material")
    if integration.simulated:
        reasons.append("integration records")
    return Evidence(
        study=facts,
        results=results,
        runs=runs,
        items=items,
        waves=waves,
        frames=frames,
        samples=samples,
        casework=casework,
        integration=integration,
        typology_attribute=typology_attribute,
        typology_counts=typology_counts,
        simulated=bool(reasons),
        simulated_sources=tuple(reasons),
    )


# --------------------------------------------------------------------------- scrubbing


# An apostrophe before a possessive "s", or a hyphen between two words.
_SPLIT_WORDS = re.compile(r"(?<=\w)['’](?=s\b)|(?<=\w)-(?=\w)")


def make_scrubber(study):
    """A function replacing every identifier the study's register knows (people,
    organisations, names in the key, the councils around the sites) and every e-mail,
    telephone number, NHS number and postcode by ``[pseudonym]``; and the register."""
    from triangulum.casework import pseudonymise as pz
    from triangulum.casework.actions_privacy import register_for

    register = register_for(study)
    # A council's bare name is a place, not a candidate in the review queue (ADR 0016);
    # in a report it would name the site's area, so it is replaced as well.
    places = pz.NameFinder(
        terms=[
            pz.Term(org.name, pz.ORGANISATION, (pz.ORGANISATION, org.key), org.label)
            for org in register.organisations
            if org.group in ("hwb", "council") and len(org.name) >= 4
        ]
    )

    def scrub(text: str) -> str:
        if not text:
            return text
        # The finder reads "Okafor's" and "Okafor-Smith" as single words; a probe of the
        # same length with the apostrophe or hyphen as a space finds the name inside.
        probe = _SPLIT_WORDS.sub(" ", text)
        found = pz.resolve_overlaps(
            [
                *register.finder.find(text),
                *register.finder.find(probe),
                *places.find(text),
                *places.find(probe),
                *pz.find_patterns(text),
            ]
        )
        if not found:
            return text
        replaced, _ = pz.anonymise(
            text, [pz.Replacement(c.start, c.end, c.suggestion) for c in found]
        )
        return replaced

    return scrub, register


# --------------------------------------------------------------------------- study


def _study(study) -> StudyFacts:
    from triangulum.studies.models import StudyMembership

    roles = Counter(StudyMembership.objects.filter(study=study).values_list("role", flat=True))
    return StudyFacts(
        slug=study.slug,
        title=study.title,
        short_title=study.short_title or study.title,
        funder=study.funder,
        funding_amount=study.funding_amount,
        host=study.host,
        start_date=_iso(study.start_date),
        end_date=_iso(study.end_date),
        aim=study.aim,
        secondary_focus=study.secondary_focus,
        stakeholder_groups=tuple(
            str(g.get("name", "")) for g in (study.stakeholder_groups or []) if isinstance(g, dict)
        ),
        care_sectors=tuple(
            str(s.get("name", "")) for s in (study.care_sectors or []) if isinstance(s, dict)
        ),
        rqs=tuple(
            (rq.number, rq.short_name, rq.text)
            for rq in study.research_questions.order_by("number")
        ),
        phases=tuple(
            (p.order, p.kind, p.name, p.status, p.produces) for p in study.phases.order_by("order")
        ),
        team_roles=tuple(sorted(roles.items())),
        simulated=study.is_simulated,
        url=_study_url(study),
    )


# --------------------------------------------------------------------------- analysis


def latest_successful_runs(study) -> list:
    """The latest successful run of each step, by step name."""
    from triangulum.analysis.models import AnalysisRun

    latest = {}
    for run in AnalysisRun.objects.filter(
        study=study, status=AnalysisRun.Status.SUCCEEDED
    ).order_by("-started_at", "-id"):
        latest.setdefault(run.step, run)
    return sorted(latest.values(), key=lambda r: r.step)


def _analysis(study) -> tuple[dict[str, ResultTable], tuple[RunFacts, ...]]:
    from triangulum.analysis.models import AnalysisResult

    runs = latest_successful_runs(study)
    by_id = {run.id: run for run in runs}
    results: dict[str, ResultTable] = {}
    rows = (
        AnalysisResult.objects.filter(run_id__in=list(by_id), kind=AnalysisResult.Kind.TABLE)
        .only("id", "run_id", "name", "caption", "data", "column_order")
        .order_by("run_id", "order", "id")
    )
    for result in rows:
        run = by_id[result.run_id]
        results[result.name] = ResultTable(
            result_id=result.id,
            run_id=run.id,
            step=run.step,
            name=result.name,
            caption=result.caption,
            columns=tuple(result.columns),
            rows=tuple(result.data or ()),
            url=_study_url(study, f"analysis/results/{result.id}/"),
            simulated=run.is_simulated,
        )
    facts = tuple(
        RunFacts(
            run_id=run.id,
            step=run.step,
            seed=run.seed,
            inputs_hash=run.inputs_hash,
            code_version=run.code_version,
            parameters=run.parameters,
            simulated=run.is_simulated,
        )
        for run in runs
    )
    return results, facts


def _items(study) -> dict[str, ItemFacts]:
    from triangulum.fieldwork.models import Wave

    items: dict[str, ItemFacts] = {}
    for wave in (
        Wave.objects.filter(study=study).select_related("instrument_version").order_by("number")
    ):
        form = wave.instrument_version.form_json or {}
        for node in _form_questions(form):
            name = node["name"]
            rqs = tuple(
                sorted(
                    {
                        int(token[2:])
                        for token in str(node.get("rq", "")).split()
                        if token.upper().startswith("RQ") and token[2:].isdigit()
                    }
                )
            )
            choices = node.get("choices") or (form.get("choices") or {}).get(
                node.get("list_name", ""), []
            )
            substantive = [
                (str(c["name"]), _label(c))
                for c in choices
                if c["name"] not in ("dont_know", "not_applicable")
            ]
            known = items.get(name)
            items[name] = ItemFacts(
                name=name,
                label=known.label if known else _label(node),
                rqs=known.rqs if known and known.rqs else rqs,
                list_name=node.get("list_name", "") or "",
                type=node.get("type", ""),
                scale=tuple(n for n, _ in substantive),
                scale_labels=tuple(label for _, label in substantive),
                waves=(*known.waves, wave.number) if known else (wave.number,),
            )
    return items


def _label(node) -> str:
    label = node.get("label", "")
    if isinstance(label, dict):
        label = label.get("English") or label.get("default") or next(iter(label.values()), "")
    return str(label)


def _form_questions(form: Mapping) -> list[Mapping]:
    found = []

    def visit(nodes):
        for node in nodes:
            kind = node.get("type", "")
            if kind in ("group", "repeat"):
                visit(node.get("children", []))
            elif kind not in (
                "note",
                "calculate",
                "start",
                "end",
                "today",
                "deviceid",
            ) and node.get("name"):
                found.append(node)

    visit(form.get("children", []))
    return found


def _form_languages(form: Mapping) -> tuple[str, ...]:
    languages = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node.get("label"), dict):
                languages.update(node["label"])
            visit(node.get("children", []))

    visit(form.get("children", []))
    default = form.get("default_language")
    if default and default != "default":
        languages.add(default)
    return tuple(sorted(lang for lang in languages if lang != "default"))


def _typology_counts(attribute: str) -> tuple[tuple[int, int], ...]:
    from triangulum.organisations.models import Organisation

    found = Counter(
        value
        for value in Organisation.objects.filter(attributes__has_key=attribute).values_list(
            f"attributes__{attribute}", flat=True
        )
        if isinstance(value, int)
    )
    return tuple(sorted(found.items()))


# --------------------------------------------------------------------------- fieldwork


def _waves(study) -> tuple[WaveFacts, ...]:
    from triangulum.fieldwork import queries as fieldwork_queries
    from triangulum.fieldwork.models import Interview, Wave

    out = []
    for wave in (
        Wave.objects.filter(study=study)
        .select_related("phase", "instrument_version__instrument")
        .order_by("number")
    ):
        rates = fieldwork_queries.rates(wave)
        result = rates["result"]
        completes = Counter(
            Interview.objects.filter(wave=wave, status=Interview.Status.COMPLETE).values_list(
                "mode", flat=True
            )
        )
        version = wave.instrument_version
        out.append(
            WaveFacts(
                number=wave.number,
                name=wave.name,
                phase_name=wave.phase.name if wave.phase else "",
                phase_kind=wave.phase.kind if wave.phase else "",
                frame_vintage=_iso(wave.frame_vintage),
                field_start=_iso(wave.field_start),
                field_end=_iso(wave.field_end),
                modes=tuple(wave.modes or ()),
                max_attempts=wave.max_attempts,
                instrument_title=version.instrument.title,
                instrument_version=version.version,
                instrument_sha256=version.sha256,
                languages=_form_languages(version.form_json or {}),
                simulated=wave.is_simulated,
                cases=sum(rates["codes"].values()),
                buckets=dict(result.counts) if result else {},
                codes=tuple(sorted(rates["codes"].items())),
                e=result.e if result else None,
                e_method=result.e_method if result else "",
                rates=dict(result.rates) if result else {},
                completes_by_mode=tuple(sorted(completes.items())),
                code_labels={code: fieldwork_queries.code_label(code) for code in rates["codes"]},
                url=_study_url(study, f"fieldwork/waves/{wave.number}/dashboard/"),
            )
        )
    return tuple(out)


def _frame_queryset(vintage):
    from triangulum.organisations.models import Organisation

    return (
        Organisation.objects.filter(org_type="ccg")
        .exclude(open_date__gt=vintage)
        .exclude(close_date__lt=vintage)
    )


def _frames(study, waves) -> dict[str, FrameFacts]:
    import datetime as dt

    frames = {}
    for wave in waves:
        vintage = dt.date.fromisoformat(wave.frame_vintage)
        regions = Counter(
            (region or "unknown")
            for region in _frame_queryset(vintage).values_list("region_name", flat=True)
        )
        frames[wave.frame_vintage] = FrameFacts(
            vintage=wave.frame_vintage,
            total=sum(regions.values()),
            by_region=tuple(sorted(regions.items())),
            url=_study_url(study, "frame/"),
        )
    return frames


def _samples(study) -> tuple[SampleFacts, ...]:
    from django.db.models import Count

    from triangulum.sampling.models import Sample

    return tuple(
        SampleFacts(
            sample_id=s.id,
            name=s.name,
            method=s.method,
            phase_kind=s.phase.kind if s.phase else "",
            phase_name=s.phase.name if s.phase else "",
            frame_size=s.frame_size,
            units=s.n_units,
            seed=s.seed,
            vintage=_iso(s.vintage),
            inputs_hash=s.inputs_hash,
            simulated=s.is_simulated,
            url=_study_url(study, f"samples/{s.id}/"),
        )
        for s in Sample.objects.filter(study=study)
        .select_related("phase")
        .annotate(n_units=Count("units"))
        .order_by("id")
    )


# --------------------------------------------------------------------------- casework


def _casework(study, scrub, register, results) -> CaseworkFacts:
    from django.db.models import Count

    from triangulum.casework.models import (
        CodebookVersion,
        Coding,
        FrameworkCell,
        FrameworkMatrix,
        Initiative,
        Memo,
        PseudonymCandidate,
        ReliabilityAssignment,
        Source,
        Turn,
    )
    from triangulum.casework.queries import code_paths, code_tree
    from triangulum.studies.models import StudyMembership

    sources = list(
        Source.objects.filter(study=study)
        .select_related("phase")
        .only("id", "kind", "site_id", "phase__kind", "is_simulated", "original_media_type")
        .order_by("id")
    )
    source_by_id = {s.id: s for s in sources}
    site_labels = {org.key: org.label for org in register.organisations}
    counts: dict[str, Counted] = {}

    def add(key: str, label: str, value: int, tail: str = "casework/") -> None:
        counts[key] = Counted(key, label, value, _study_url(study, tail))

    add("sources", "Case-study sources", len(sources))
    for kind, n in sorted(Counter(s.kind for s in sources).items()):
        add(f"sources/{kind}", f"Case-study sources of kind {kind}", n)
    site_phase: dict[int, str] = {}
    for s in sources:
        if s.site_id is not None:
            kind = s.phase.kind if s.phase else ""
            # A site studied in depth after a pilot counts as an in-depth site.
            if site_phase.get(s.site_id) != "in_depth_case_studies":
                site_phase[s.site_id] = kind
    add("sites", "Case-study sites", len(site_phase))
    for kind, n in sorted(Counter(site_phase.values()).items()):
        add(f"sites/{kind or 'none'}", f"Case-study sites ({kind or 'no phase'})", n)

    # Speakers: participants with at least one turn, by role.
    speaker_rows = (
        Turn.objects.filter(source__study=study)
        .exclude(participant=None)
        .values_list("participant_id", "participant__role_category", "source__site_id")
        .distinct()
        .order_by("participant_id")
    )
    speakers: dict[int, str] = {}
    speakers_by_site: dict[int, Counter] = defaultdict(Counter)
    for pid, role, site in speaker_rows:
        speakers[pid] = role
        if site is not None:
            speakers_by_site[site][pid] = role
    add("speakers", "Case-study participants who speak in a source", len(speakers))
    for role, n in sorted(Counter(speakers.values()).items()):
        add(f"speakers/{role}", f"Case-study participants ({role})", n)

    codings = list(
        Coding.objects.filter(source__study=study)
        .values_list("id", "code_id", "source_id", "start", "end", "coder_id", "is_simulated")
        .order_by("source_id", "start", "end", "id")
    )
    add("codings", "Codings", len(codings))
    coder_ids = sorted({c[5] for c in codings})
    add("coders", "Coders", len(coder_ids))
    coder_roles = tuple(
        sorted(
            set(
                StudyMembership.objects.filter(study=study, user_id__in=coder_ids).values_list(
                    "role", flat=True
                )
            )
        )
    )

    # Codes, with their sub-codes' codings rolled up.
    tree = code_tree(study)
    paths = code_paths(study)
    children: dict[int, list[int]] = defaultdict(list)
    for code, _depth in tree:
        if code.parent_id:
            children[code.parent_id].append(code.id)

    def family(code_id: int) -> set[int]:
        out = {code_id}
        for child in children.get(code_id, []):
            out |= family(child)
        return out

    by_code: dict[int, list[tuple]] = defaultdict(list)
    for row in codings:
        by_code[row[1]].append(row)
    rq_of: dict[int, list[int]] = defaultdict(list)
    from triangulum.casework.models import Code

    for code_id, number in Code.research_questions.through.objects.filter(
        code__study=study
    ).values_list("code_id", "researchquestion__number"):
        rq_of[code_id].append(number)

    quotes, quotes_by_site = _quotes(
        study, tree, by_code, source_by_id, site_labels, scrub, register, rq_of
    )
    code_facts = []
    for code, _depth in tree:
        rows = [r for cid in sorted(family(code.id)) for r in by_code.get(cid, [])]
        code_sources = {r[2] for r in rows}
        code_sites = {source_by_id[s].site_id for s in code_sources if source_by_id[s].site_id}
        code_facts.append(
            CodeFacts(
                code_id=code.id,
                path=paths[code.id],
                name=code.name,
                parent_path=paths.get(code.parent_id, "") if code.parent_id else "",
                rqs=tuple(sorted(rq_of.get(code.id, []))),
                definition=code.definition,
                has_inclusion=bool(code.inclusion.strip()),
                has_exclusion=bool(code.exclusion.strip()),
                has_example=bool(code.example.strip()),
                segments=len(rows),
                sources=len(code_sources),
                sites=len(code_sites),
                quotes=quotes.get(code.id, ()),
                url=_study_url(study, f"casework/codebook/{code.id}/"),
            )
        )
    add("codes", "Codes in the codebook", len(code_facts), "casework/codebook/")
    add(
        "codebook/versions",
        "Recorded codebook versions",
        CodebookVersion.objects.filter(study=study).count(),
        "casework/codebook/",
    )
    statuses = Counter(
        PseudonymCandidate.objects.filter(source__study=study).values_list("status", flat=True)
    )
    for status, n in statuses.items():
        add(f"pseudonyms/{status}", f"Pseudonymisation candidates {status}", n, "casework/privacy/")

    # Initiatives.
    membership = results.get("typology_membership")
    initiative_rows = list(
        Initiative.objects.filter(study=study)
        .annotate(n_sources=Count("sources", distinct=True))
        .select_related("lead_organisation")
        .order_by("id")
    )
    initiatives = tuple(
        InitiativeFacts(
            initiative_id=i.id,
            name=scrub(i.name),
            status=i.status,
            sectors=tuple(str(s) for s in i.sectors or ()),
            benefits=tuple(str(b) for b in i.benefits_targeted or ()),
            site_label=site_labels.get(i.lead_organisation_id, "a commissioning body"),
            sources=i.n_sources,
            simulated=i.is_simulated,
        )
        for i in initiative_rows
    )
    add("initiatives", "Service-redesign initiatives", len(initiatives), "casework/initiatives/")
    benefits = Counter(b for i in initiatives for b in set(i.benefits))
    for benefit, n in benefits.items():
        add(
            f"initiatives/benefit/{benefit}",
            f"Initiatives targeting {benefit}",
            n,
            "casework/initiatives/",
        )
    for status, n in Counter(i.status for i in initiatives).items():
        add(f"initiatives/status/{status}", f"Initiatives {status}", n, "casework/initiatives/")

    # Sites.
    codes_by_org = {}
    if membership is not None:
        from triangulum.organisations.models import Organisation

        ods = dict(
            Organisation.objects.filter(id__in=list(site_phase)).values_list("id", "ods_code")
        )
        for i, row in enumerate(membership.rows):
            codes_by_org[row.get("organisation_code")] = i
    else:
        ods = {}
    sites = []
    for org_id, phase_kind in sorted(
        site_phase.items(), key=lambda kv: (site_labels.get(kv[0], ""), kv[0])
    ):
        its = [s for s in sources if s.site_id == org_id]
        sites.append(
            SiteFacts(
                organisation_id=org_id,
                label=site_labels.get(org_id, "a site"),
                phase_kind=phase_kind,
                sources=len(its),
                source_kinds=tuple(sorted(Counter(s.kind for s in its).items())),
                typology_row=codes_by_org.get(ods.get(org_id)),
                initiatives=tuple(
                    i
                    for i, row in zip(initiatives, initiative_rows, strict=True)
                    if row.lead_organisation_id == org_id
                ),
                speakers_by_role=tuple(sorted(Counter(speakers_by_site[org_id].values()).items())),
                quotes=quotes_by_site.get(org_id, ()),
                url=_study_url(study, "casework/"),
            )
        )

    agreement = _agreement(study, ReliabilityAssignment)
    return CaseworkFacts(
        counts=dict(sorted(counts.items())),
        codes=tuple(code_facts),
        sites=tuple(sites),
        initiatives=initiatives,
        benefits=tuple(sorted(benefits.items(), key=lambda kv: (-kv[1], kv[0]))),
        agreement=agreement,
        memo_titles=tuple(
            sorted(
                scrub(f"{t} — {x[:300]}")
                for t, x in Memo.objects.filter(study=study).values_list("title", "text")
            )
        ),
        codebook_versions=CodebookVersion.objects.filter(study=study).count(),
        matrices=FrameworkMatrix.objects.filter(study=study).count(),
        charted_cells=FrameworkCell.objects.filter(matrix__study=study).exclude(summary="").count(),
        turn_timestamps=Turn.objects.filter(source__study=study).exclude(timestamp="").exists(),
        media_originals=tuple(
            sorted({s.original_media_type for s in sources if s.original_media_type})
        ),
        pseudonyms=dict(sorted(statuses.items())),
        coder_roles=coder_roles,
        simulated=any(s.is_simulated for s in sources)
        or any(c[6] for c in codings)
        or any(i.simulated for i in initiatives),
    )


def _quotes(study, tree, by_code, source_by_id, site_labels, scrub, register, rq_numbers):
    """Quotes by code (up to QUOTES_PER_CODE, from different sites where possible) and by
    site (up to QUOTES_PER_SITE, on different research questions): whole segments inside
    one participant's turn, of readable length, pseudonymised and scrubbed."""
    from triangulum.casework.actions_privacy import anonymised_text
    from triangulum.casework.models import PseudonymCandidate, Source, Turn
    from triangulum.studies.models import Participant

    turns: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for source_id, start, end, pid in (
        Turn.objects.filter(source__study=study)
        .exclude(participant=None)
        .values_list("source_id", "start", "end", "participant_id")
        .order_by("source_id", "start")
    ):
        turns[source_id].append((start, end, pid))

    def speaker(source_id: int, start: int, end: int) -> int | None:
        for t_start, t_end, pid in turns.get(source_id, ()):
            if t_start <= start and end <= t_end:
                return pid
        return None

    # Candidates: (code id, coding id, source id, start, end, participant id).
    codes = [code for code, _depth in tree]
    rq_of = {code.id: min(rq_numbers.get(code.id) or [0]) for code in codes}
    candidates: dict[int, list[tuple]] = {}
    for code in codes:
        found = []
        for coding_id, code_id, source_id, start, end, _coder, _sim in by_code.get(code.id, []):
            if not QUOTE_MIN <= end - start <= QUOTE_MAX * 2:
                continue
            pid = speaker(source_id, start, end)
            if pid is not None:
                found.append((code_id, coding_id, source_id, start, end, pid))
        candidates[code.id] = found

    def overlaps(picked, row) -> bool:
        return any(p[2] == row[2] and p[3] < row[4] and row[3] < p[4] for p in picked)

    by_code_picks: dict[int, list[tuple]] = {}
    for code in codes:
        picked: list[tuple] = []
        used_sites: set = set()
        # First pass: one quote per site; second pass: fill up from any site.
        for new_sites_only in (True, False):
            for row in candidates[code.id]:
                if len(picked) >= QUOTES_PER_CODE:
                    break
                site = source_by_id[row[2]].site_id
                if (new_sites_only and site in used_sites) or overlaps(picked, row):
                    continue
                picked.append(row)
                used_sites.add(site)
        if picked:
            by_code_picks[code.id] = picked
    by_site_picks: dict[int, list[tuple]] = defaultdict(list)
    by_site_rows: dict[int, list[tuple]] = defaultdict(list)
    for code in codes:
        for row in candidates[code.id]:
            by_site_rows[source_by_id[row[2]].site_id].append(row)
    for site, rows in by_site_rows.items():
        if site is None:
            continue
        used_rqs: set = set()
        used_sources: set = set()
        for row in sorted(rows, key=lambda r: (r[2], r[3], r[1])):
            if len(by_site_picks[site]) >= QUOTES_PER_SITE:
                break
            rq = rq_of.get(row[0], 0)
            if rq in used_rqs or row[2] in used_sources or overlaps(by_site_picks[site], row):
                continue
            by_site_picks[site].append(row)
            used_rqs.add(rq)
            used_sources.add(row[2])

    everything = [r for rows in by_code_picks.values() for r in rows] + [
        r for rows in by_site_picks.values() for r in rows
    ]
    if not everything:
        return {}, {}
    needed_sources = sorted({r[2] for r in everything})
    accepted: dict[int, list] = defaultdict(list)
    for candidate in (
        PseudonymCandidate.objects.filter(
            source_id__in=needed_sources, status=PseudonymCandidate.Status.ACCEPTED
        )
        .exclude(pseudonym=None)
        .select_related("pseudonym")
        .order_by("source_id", "start", "end")
    ):
        accepted[candidate.source_id].append(candidate)
    rendered = {}
    for source in Source.objects.filter(id__in=needed_sources).only("id", "text", "study_id"):
        rendered[source.id] = anonymised_text(source, accepted.get(source.id, []))
    people = {p.key: p.label for p in register.people}
    participants = {p.id: p for p in Participant.objects.filter(id__in={r[5] for r in everything})}
    names = {code.id: code.name for code in codes}

    def facts(row) -> QuoteFacts:
        code_id, coding_id, source_id, start, end, pid = row
        text, offsets = rendered[source_id]
        a, b = offsets.segment(start, end)
        quote = " ".join(scrub(text[a:b]).split())
        if len(quote) > QUOTE_MAX:
            quote = quote[:QUOTE_MAX].rsplit(" ", 1)[0] + " …"
        if quote[:1].islower():
            quote = "… " + quote
        participant = participants[pid]
        role = ROLE_LABELS_PLAIN.get(participant.role_category, "participant")
        label = people.get(pid) or participant.pseudonym
        who = label if label.lower().startswith(role.lower()) else f"{label}, {role}"
        source = source_by_id[source_id]
        phase_kind = source.phase.kind if source.phase else ""
        site = site_labels.get(source.site_id, "")
        where = PHASE_SITE_WORDS.get(phase_kind, "site")
        return QuoteFacts(
            coding_id=coding_id,
            code_id=code_id,
            code_name=names[code_id],
            text=quote,
            attribution=f"{who} ({where}{', ' + site if site else ''})",
            role_category=participant.role_category,
            site_label=site,
            phase_kind=phase_kind,
            source_kind=source.kind,
            url=_study_url(study, f"casework/segments/by-id/?ids={coding_id}"),
        )

    return (
        {code_id: tuple(facts(r) for r in rows) for code_id, rows in by_code_picks.items()},
        {site: tuple(facts(r) for r in rows) for site, rows in by_site_picks.items()},
    )


def _agreement(study, ReliabilityAssignment) -> AgreementFacts | None:
    from triangulum.casework.queries import agreement_for_sources

    assignments = list(
        ReliabilityAssignment.objects.filter(study=study).prefetch_related("coders").order_by("id")
    )
    if not assignments:
        return None
    coders = sorted({c.id for a in assignments for c in a.coders.all()})
    if len(coders) < 2:
        return None
    sources = [a.source_id for a in assignments]
    report = agreement_for_sources(study, sources, coders)
    overall = report.overall
    return AgreementFacts(
        sources=len(sources),
        coders=len(coders),
        kappa=overall.characters_coded_text.kappa if overall else None,
        alpha=overall.alpha if overall else None,
        url=_study_url(study, "casework/agreement/"),
    )


# --------------------------------------------------------------------------- integration


def _integration(study, scrub) -> IntegrationFacts:
    from triangulum.casework.queries import code_paths
    from triangulum.integration import models as im
    from triangulum.integration import queries as iq

    strand_labels = dict(im.Strand.choices)
    evidence = list(iq.evidence_queryset().filter(_integration_evidence_of(study)).order_by("id"))
    links = iq.evidence_links(evidence, study.slug, None)
    evidence_by_owner: dict[tuple[str, int], list] = defaultdict(list)
    for ev, link in zip(evidence, links, strict=True):
        owner = (
            ("finding", ev.finding_id)
            if ev.finding_id
            else ("proposition", ev.proposition_id)
            if ev.proposition_id
            else ("cell", ev.cell_id)
        )
        evidence_by_owner[owner].append(_evidence_link(ev, link, scrub))

    findings = tuple(
        FindingFacts(
            finding_id=f.id,
            strand=f.strand,
            strand_label=strand_labels.get(f.strand, f.strand),
            rq=f.research_question.number,
            theme=scrub(f.theme.name) if f.theme else "",
            statement=scrub(f.statement),
            evidence=tuple(evidence_by_owner.get(("finding", f.id), ())),
            url=_study_url(study, f"integration/findings/{f.id}/"),
        )
        for f in im.Finding.objects.filter(study=study)
        .select_related("research_question", "theme")
        .order_by("research_question__number", "strand", "id")
    )
    settled = defaultdict(list)
    for s in im.SettledPairCode.objects.filter(theme__study=study).order_by(
        "theme_id", "strand_a", "strand_b"
    ):
        settled[s.theme_id].append((s.strand_a, s.strand_b, s.code))
    paths = code_paths(study)
    themes = tuple(
        ThemeFacts(
            theme_id=t.id,
            rq=t.research_question.number,
            name=scrub(t.name),
            code_path=paths.get(t.code_id, "") if t.code_id else "",
            settled=tuple(settled.get(t.id, ())),
            url=_study_url(study, f"integration/convergence/themes/{t.id}/"),
        )
        for t in im.Theme.objects.filter(study=study)
        .select_related("research_question")
        .order_by("research_question__number", "order", "id")
    )
    assessments = tuple(
        (a.research_question.number, scrub(a.assessment))
        for a in im.GlobalAssessment.objects.filter(study=study)
        .select_related("research_question")
        .order_by("research_question__number")
    )
    propositions = tuple(
        PropositionFacts(
            proposition_id=p.id,
            rq=p.research_question.number,
            statement=scrub(p.statement),
            items=tuple(str(i) for i in p.items or ()),
            test=p.test,
            direction=p.direction,
            support_rule=scrub(p.support_rule),
            status=p.status,
            locked=p.locked_at is not None,
            verdict=p.verdict or "",
            effect=p.effect,
            ci_low=p.ci_low,
            ci_high=p.ci_high,
            p_value=p.p_value,
            n_cases=p.n_cases,
            theme=scrub(p.finding.theme.name) if p.finding and p.finding.theme else "",
            finding_id=p.finding_id,
            url=_study_url(study, f"integration/propositions/{p.id}/"),
        )
        for p in iq.propositions_for(study).select_related("finding__theme")
    )
    displays = []
    for d in iq.displays_for(study).order_by("kind", "title", "id"):
        table = iq.display_table(d, None)
        rows = tuple(
            DisplayRowFacts(
                row_id=row.row.id,
                label=scrub(row.row.label),
                meta_inference=scrub(row.row.meta_inference),
                cells=tuple(
                    (
                        cell.column,
                        scrub(cell.text),
                        sum(1 for link in cell.evidence if link.is_survey),
                        sum(1 for link in cell.evidence if not link.is_survey),
                    )
                    for cell in row.cells
                ),
            )
            for row in table.rows
        )
        displays.append(
            DisplayFacts(
                display_id=d.id,
                slug=d.slug,
                kind=d.kind,
                kind_label=d.get_kind_display(),
                title=scrub(d.title),
                rq=d.research_question.number if d.research_question else None,
                columns=tuple((c["key"], scrub(str(c["label"]))) for c in table.columns),
                rows=rows,
                url=_study_url(study, f"integration/displays/{d.slug}/"),
            )
        )
    simulated = (
        im.Finding.objects.filter(study=study, is_simulated=True).exists()
        or im.Proposition.objects.filter(study=study, is_simulated=True).exists()
        or im.JointDisplay.objects.filter(study=study, is_simulated=True).exists()
        or im.Theme.objects.filter(study=study, is_simulated=True).exists()
    )
    return IntegrationFacts(
        findings=findings,
        themes=themes,
        assessments=assessments,
        propositions=propositions,
        displays=tuple(displays),
        qca_runs=im.QcaRun.objects.filter(study=study).count(),
        simulated=simulated,
    )


def _integration_evidence_of(study):
    from django.db.models import Q

    return (
        Q(finding__study=study) | Q(proposition__study=study) | Q(cell__row__display__study=study)
    )


def _evidence_link(ev, link, scrub) -> EvidenceLink:
    """One integration evidence row as a citation: our ref, integration's URL and label."""
    kind = ev.kind
    if kind == "analysis_result" and ev.analysis_result_id:
        run = ev.analysis_result.run
        ref = f"analysis:{run.step}/{ev.analysis_result.name}@run{run.id}"
    elif kind == "segment" and ev.coding_id:
        ref = f"segment:{ev.coding_id}"
    elif kind == "survey_item" and ev.wave_id:
        ref = f"fieldwork:wave/{ev.wave.number}/item/{ev.item}"
    elif kind == "matrix_cell" and ev.framework_cell_id:
        ref = f"casework:framework-cell/{ev.framework_cell_id}"
    elif kind == "source" and ev.source_id:
        ref = f"casework:source/{ev.source_id}"
    elif kind == "proposition" and ev.cited_proposition_id:
        ref = f"proposition:{ev.cited_proposition_id}"
    else:
        ref = f"integration:evidence/{ev.id}"
    label = scrub(link.label) or link.kind_label
    return EvidenceLink(
        kind=kind, label=label, cite=Cite(ref, label, link.url), is_survey=link.is_survey
    )


# =========================================================================== resolving refs


class UnknownRef(ValueError):
    pass


def resolve(study, ref: str):
    """The stored value a Num's ``cite.ref`` names, read afresh from the database."""
    scheme, _, rest = ref.partition(":")
    if scheme == "analysis":
        return _resolve_analysis(study, rest)
    if scheme == "fieldwork":
        return _resolve_fieldwork(study, rest)
    if scheme == "frame":
        return _resolve_frame(rest)
    if scheme == "sample":
        from triangulum.sampling.models import Sample

        sample_id, _, what = rest.partition("#")
        sample = Sample.objects.get(study=study, id=int(sample_id))
        if what == "units":
            return sample.units.count()
        if what == "frame_size":
            return sample.frame_size
        raise UnknownRef(ref)
    if scheme == "casework":
        return _resolve_casework(study, rest)
    if scheme == "organisations":
        from triangulum.organisations.models import Organisation

        spec, _, what = rest.partition("#")
        attribute, _, value = spec.partition("=")
        if what != "count":
            raise UnknownRef(ref)
        return Organisation.objects.filter(**{f"attributes__{attribute}": int(value)}).count()
    if scheme == "integration":
        from triangulum.integration.models import Proposition

        spec, _, what = rest.partition("#")
        kind, _, pk = spec.partition("/")
        if kind == "propositions" and what == "count":
            tested = Proposition.objects.filter(study=study).exclude(verdict="")
            if pk == "tested":
                return tested.count()
            return tested.filter(verdict=pk.removeprefix("verdict/")).count()
        if kind == "finding" and what == "evidence":
            from triangulum.integration.models import Evidence as Link

            return Link.objects.filter(finding_id=int(pk), finding__study=study).count()
        if kind != "proposition":
            raise UnknownRef(ref)
        return getattr(Proposition.objects.get(study=study, id=int(pk)), what)
    raise UnknownRef(ref)


def _resolve_analysis(study, rest: str):
    from triangulum.analysis.models import AnalysisResult

    head, _, cell = rest.partition("#")
    step_name, _, run = head.partition("@run")
    step, _, name = step_name.partition("/")
    result = AnalysisResult.objects.get(
        run_id=int(run), run__study=study, run__step=step, name=name
    )
    if cell.startswith("count/"):
        column, _, value = cell[len("count/") :].partition("=")
        return sum(1 for row in result.data or () if str(row.get(column)) == value)
    row, _, column = cell.partition("/")
    return result.data[int(row.removeprefix("r"))][column]


def _resolve_fieldwork(study, rest: str):
    from triangulum.fieldwork import queries as fieldwork_queries
    from triangulum.fieldwork.models import Interview, Wave

    head, _, key = rest.partition("#")
    wave = Wave.objects.get(study=study, number=int(head.removeprefix("wave/")))
    if key.startswith("mode/"):
        return Interview.objects.filter(
            wave=wave, status=Interview.Status.COMPLETE, mode=key[5:]
        ).count()
    rates = fieldwork_queries.rates(wave)
    if key == "cases":
        return sum(rates["codes"].values())
    if key == "e":
        return rates["result"].e
    what, _, name = key.partition("/")
    if what == "rate":
        return rates["result"].rates[name]
    if what == "bucket":
        return rates["result"].counts[name]
    if what == "code":
        return rates["codes"][name]
    raise UnknownRef(rest)


def _resolve_frame(rest: str):
    import datetime as dt

    head, _, what = rest.partition("#")
    if what != "count":
        raise UnknownRef(rest)
    spec = head.removeprefix("ccg@")
    vintage, _, region = spec.partition("/region/")
    queryset = _frame_queryset(dt.date.fromisoformat(vintage))
    if region:
        if region == "unknown":
            return queryset.filter(region_name="").count()
        return queryset.filter(region_name=region).count()
    return queryset.count()


def _resolve_casework(study, rest: str):
    from triangulum.casework.models import Coding, Initiative, Source, Turn

    head, _, what = rest.partition("#")
    if head.startswith("code/"):
        from triangulum.casework.queries import descendant_ids

        code_id = int(head[5:])
        ids = descendant_ids(study, [code_id])[code_id]
        codings = Coding.objects.filter(source__study=study, code_id__in=ids)
        if what == "segments":
            return codings.count()
        if what == "sources":
            return codings.values("source_id").distinct().count()
        if what == "sites":
            return codings.exclude(source__site=None).values("source__site_id").distinct().count()
        raise UnknownRef(rest)
    if head.startswith("site/"):
        _site, org_id, what_kind, value = head.split("/")
        if what_kind == "sources":
            return Source.objects.filter(study=study, site_id=int(org_id), kind=value).count()
        if what_kind == "speakers":
            return (
                Turn.objects.filter(
                    source__study=study,
                    source__site_id=int(org_id),
                    participant__role_category=value,
                )
                .values("participant_id")
                .distinct()
                .count()
            )
        raise UnknownRef(rest)
    if head == "codebook/versions":
        from triangulum.casework.models import CodebookVersion

        return CodebookVersion.objects.filter(study=study).count()
    if head == "agreement":
        from triangulum.casework.models import ReliabilityAssignment

        facts = _agreement(study, ReliabilityAssignment)
        return getattr(facts, what)
    if what != "count":
        raise UnknownRef(rest)
    parts = head.split("/")
    if parts[0] == "sources":
        queryset = Source.objects.filter(study=study)
        return queryset.filter(kind=parts[1]).count() if len(parts) > 1 else queryset.count()
    if parts[0] == "sites":
        sources = Source.objects.filter(study=study).exclude(site=None)
        phases: dict[int, str] = {}
        for site, kind in sources.values_list("site_id", "phase__kind").order_by("id"):
            if phases.get(site) != "in_depth_case_studies":
                phases[site] = kind or "none"
        if len(parts) == 1:
            return len(phases)
        return sum(1 for kind in phases.values() if kind == parts[1])
    if parts[0] == "speakers":
        turns = Turn.objects.filter(source__study=study).exclude(participant=None)
        if len(parts) > 1:
            turns = turns.filter(participant__role_category=parts[1])
        return turns.values("participant_id").distinct().count()
    if parts[0] == "pseudonyms":
        from triangulum.casework.models import PseudonymCandidate

        return PseudonymCandidate.objects.filter(source__study=study, status=parts[1]).count()
    if parts[0] == "codings":
        return Coding.objects.filter(source__study=study).count()
    if parts[0] == "coders":
        return Coding.objects.filter(source__study=study).values("coder_id").distinct().count()
    if parts[0] == "codes":
        from triangulum.casework.queries import code_tree

        return len(code_tree(study))
    if parts[0] == "initiatives":
        initiatives = list(Initiative.objects.filter(study=study))
        if len(parts) == 1:
            return len(initiatives)
        if parts[1] == "benefit":
            return sum(1 for i in initiatives if parts[2] in (i.benefits_targeted or []))
        if parts[1] == "status":
            return sum(1 for i in initiatives if i.status == parts[2])
    raise UnknownRef(rest)
