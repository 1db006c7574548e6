"""QCA of the case-study sites (or their redesign initiatives): calibrating sets from
survey and case-study data, running the QCA code on them, and the demo's analysis.

The calibration of each set is stated as data (stored with the run, shown on its page):

    {"ALLIANCE": {"source": "code_share", "code": 44, "method": "direct",
                  "anchors": [0.0, 0.02, 0.06], "rationale": "..."}}

Sources give one raw value per case:

- ``typology``: the organisation's typology class (analysis, latent classes of wave 1);
- ``survey_answer``: the organisation's combined answer to an item in a wave (the lower
  median of its responding members, as the analysis combines them);
- ``survey_share``: the share of its responding members whose answer is in ``categories``;
- ``code_share``: the share of the case's text coded with ``code`` (and its sub-codes);
- ``code_count``: the number of codings of ``code`` in the case.

Methods turn raw values into memberships: ``members`` (crisp: 1 when the value is one of
``members``), ``threshold`` (crisp: 1 when the value is at least ``threshold``) and
``direct`` (fuzzy: Ragin's direct method with ``anchors`` = full non-membership,
crossover, full membership, on fsQCA's ±3 log-odds so the anchors map to 0.047, 0.5 and
0.953).

Apart from ``demo_qca`` (which stores runs), nothing here touches Django.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from triangulum.integration import qca
from triangulum.integration.qca import result_as_dict
from triangulum.integration.quantitize import table_csv

SOURCES = {
    "typology": "Typology class of the organisation (survey analysis)",
    "survey_answer": "The organisation's combined answer to a survey item",
    "survey_share": "Share of the organisation's responding members giving chosen answers",
    "code_share": "Share of the case's text coded with a code",
    "code_count": "Number of codings of a code in the case",
}
CATEGORICAL_SOURCES = frozenset({"typology", "survey_answer"})
SURVEY_SOURCES = frozenset({"survey_answer", "survey_share"})
CODE_SOURCES = frozenset({"code_share", "code_count"})
METHODS = {
    "members": "Crisp: 1 when the value is one of the listed values",
    "threshold": "Crisp: 1 when the value is at least the threshold",
    "direct": "Fuzzy: direct calibration on three anchors (Ragin's log-odds method)",
}
UNITS = {"site": "Case-study sites", "initiative": "Redesign initiatives"}
SET_TYPES = ("crisp", "fuzzy")
REMAINDERS = {
    "exclude": "Complex solution (remainders excluded)",
    "include": "Parsimonious solution (remainders included)",
    "both": "Complex and parsimonious solutions",
}
# Set names appear in solution formulas (A*~B + C), so they must be plain names.
SET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
MIN_CASES = 2


class CalibrationError(ValueError):
    """A calibration that cannot be applied; the message names the set and the field."""


@dataclass(frozen=True)
class SetSpec:
    name: str
    source: str
    method: str
    wave: int | None = None
    item: str = ""
    categories: tuple[str, ...] = ()
    code: int | None = None
    include_subcodes: bool = True
    members: tuple[str, ...] = ()
    threshold: float | None = None
    anchors: tuple[float, float, float] | None = None
    rationale: str = ""

    @property
    def is_fuzzy(self) -> bool:
        return self.method == "direct"

    def as_dict(self) -> dict:
        out: dict = {"source": self.source, "method": self.method}
        if self.source in SURVEY_SOURCES:
            out.update(wave=self.wave, item=self.item)
        if self.source == "survey_share":
            out["categories"] = list(self.categories)
        if self.source in CODE_SOURCES:
            out.update(code=self.code, include_subcodes=self.include_subcodes)
        if self.method == "members":
            out["members"] = list(self.members)
        elif self.method == "threshold":
            out["threshold"] = self.threshold
        else:
            out["anchors"] = list(self.anchors or ())
            out["anchor_log_odds"] = qca.FSQCA_ANCHOR_LOG_ODDS
        if self.rationale:
            out["rationale"] = self.rationale
        return out


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{where}: {value!r} is not a number")
    return float(value)


def parse_set(name: str, spec: Mapping) -> SetSpec:
    """Check one set's calibration and return it as a ``SetSpec``."""
    if not isinstance(name, str) or not SET_NAME.match(name):
        raise CalibrationError(
            f"set name {name!r}: use a letter then letters, digits or _ (at most 40), "
            "as the name appears in solution formulas"
        )
    if not isinstance(spec, Mapping):
        raise CalibrationError(f"set {name}: the calibration must be an object of fields")
    where = f"set {name}"
    known = {
        "source",
        "method",
        "wave",
        "item",
        "categories",
        "code",
        "include_subcodes",
        "members",
        "threshold",
        "anchors",
        "anchor_log_odds",
        "rationale",
    }
    unknown = sorted(set(spec) - known)
    if unknown:
        raise CalibrationError(f"{where}: unknown field(s) {', '.join(unknown)}")
    source = spec.get("source")
    if source not in SOURCES:
        raise CalibrationError(f"{where}, source: {source!r} is not one of {', '.join(SOURCES)}")
    method = spec.get("method")
    if method not in METHODS:
        raise CalibrationError(f"{where}, method: {method!r} is not one of {', '.join(METHODS)}")
    if source in CATEGORICAL_SOURCES and method != "members":
        raise CalibrationError(
            f"{where}, method: {source} gives categories, so it is calibrated by 'members'"
        )
    if source not in CATEGORICAL_SOURCES and method == "members":
        raise CalibrationError(
            f"{where}, method: {source} gives numbers; use 'threshold' or 'direct'"
        )
    if "anchor_log_odds" in spec and spec["anchor_log_odds"] != qca.FSQCA_ANCHOR_LOG_ODDS:
        raise CalibrationError(
            f"{where}, anchor_log_odds: the anchors sit at ±{qca.FSQCA_ANCHOR_LOG_ODDS:g} "
            "log-odds here (fsQCA's convention)"
        )
    fields: dict = {"name": name, "source": source, "method": method}
    if source in SURVEY_SOURCES:
        wave = spec.get("wave")
        if isinstance(wave, bool) or not isinstance(wave, int) or wave < 1:
            raise CalibrationError(f"{where}, wave: give the wave's number (1, 2, …)")
        item = spec.get("item")
        if not isinstance(item, str) or not item.strip():
            raise CalibrationError(f"{where}, item: name the questionnaire item")
        fields.update(wave=wave, item=item.strip())
    if source == "survey_share":
        categories = spec.get("categories")
        if not isinstance(categories, list | tuple) or not categories:
            raise CalibrationError(
                f'{where}, categories: list the answers that count (e.g. ["agree", '
                '"strongly_agree"])'
            )
        fields["categories"] = tuple(str(c) for c in categories)
    if source in CODE_SOURCES:
        code = spec.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise CalibrationError(f"{where}, code: give the code's id (a whole number)")
        fields["code"] = code
        fields["include_subcodes"] = bool(spec.get("include_subcodes", True))
    if method == "members":
        members = spec.get("members")
        if not isinstance(members, list | tuple) or not members:
            raise CalibrationError(f"{where}, members: list the values that make a member")
        fields["members"] = tuple(str(m) for m in members)
    elif method == "threshold":
        fields["threshold"] = _number(spec.get("threshold"), f"{where}, threshold")
    else:
        anchors = spec.get("anchors")
        if not isinstance(anchors, list | tuple) or len(anchors) != 3:
            raise CalibrationError(
                f"{where}, anchors: give three numbers: full non-membership, crossover, "
                "full membership"
            )
        exclusion, crossover, inclusion = (
            _number(a, f"{where}, anchors[{i}]") for i, a in enumerate(anchors)
        )
        if not (exclusion < crossover < inclusion or exclusion > crossover > inclusion):
            raise CalibrationError(
                f"{where}, anchors: the crossover ({crossover:g}) must lie strictly between "
                f"full non-membership ({exclusion:g}) and full membership ({inclusion:g})"
            )
        fields["anchors"] = (exclusion, crossover, inclusion)
    rationale = spec.get("rationale", "")
    fields["rationale"] = str(rationale) if rationale else ""
    return SetSpec(**fields)


def parse_calibration(
    calibration: Mapping, *, outcome: str, conditions: Sequence[str], set_type: str
) -> dict[str, SetSpec]:
    """Every set of the run, checked: the outcome and each condition calibrated, no spare
    sets, and only crisp methods in a crisp run."""
    if set_type not in SET_TYPES:
        raise CalibrationError(f"set type: {set_type!r} is not one of {', '.join(SET_TYPES)}")
    if not isinstance(calibration, Mapping) or not calibration:
        raise CalibrationError("calibration: give one entry per set (the outcome and conditions)")
    conditions = list(conditions)
    if not conditions:
        raise CalibrationError("conditions: at least one condition is needed")
    if len(set(conditions)) != len(conditions):
        raise CalibrationError(f"conditions: a condition is listed twice ({', '.join(conditions)})")
    if outcome in conditions:
        raise CalibrationError(f"the outcome {outcome} cannot also be a condition")
    wanted = [*conditions, outcome]
    missing = [name for name in wanted if name not in calibration]
    if missing:
        raise CalibrationError(f"calibration: no calibration for {', '.join(missing)}")
    spare = [name for name in calibration if name not in wanted]
    if spare:
        raise CalibrationError(
            f"calibration: {', '.join(spare)} is neither the outcome nor a condition"
        )
    specs = {name: parse_set(name, calibration[name]) for name in wanted}
    if set_type == "crisp":
        fuzzy = [name for name, spec in specs.items() if spec.is_fuzzy]
        if fuzzy:
            raise CalibrationError(
                f"set {fuzzy[0]}, method: direct calibration gives fuzzy memberships; a crisp "
                "run calibrates every set by 'members' or 'threshold'"
            )
    return specs


def calibrate(spec: SetSpec, raw: Mapping[Hashable, object]) -> dict[Hashable, float | None]:
    """Each case's membership in the set (None where its raw value is missing)."""
    out: dict[Hashable, float | None] = {}
    for case, value in raw.items():
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            out[case] = None
        elif spec.method == "members":
            out[case] = 1.0 if str(value) in spec.members else 0.0
        elif spec.method == "threshold":
            out[case] = 1.0 if float(value) >= spec.threshold else 0.0
        else:
            exclusion, crossover, inclusion = spec.anchors
            (out[case],) = qca.calibrate_direct(
                [float(value)],
                exclusion=exclusion,
                crossover=crossover,
                inclusion=inclusion,
                anchor_log_odds=qca.FSQCA_ANCHOR_LOG_ODDS,
            )
    return out


@dataclass
class Calibrated:
    """The calibrated table: cases kept, raw values and memberships per set, and the cases
    left out for a missing value (with the set and the reason)."""

    cases: list[str]
    raw: dict[str, dict[str, object]]
    memberships: dict[str, dict[str, float]]
    excluded: list[dict] = field(default_factory=list)

    def set_data(self, names: Sequence[str]) -> qca.SetData:
        return qca.SetData(
            case_ids=tuple(self.cases),
            memberships={n: tuple(self.memberships[n][c] for c in self.cases) for n in names},
        )

    def rows(self, names: Sequence[str]) -> list[dict]:
        return [{"case": c, **{n: self.memberships[n][c] for n in names}} for c in self.cases]


def calibrate_all(
    specs: Mapping[str, SetSpec],
    raw: Mapping[str, Mapping[str, object]],
    cases: Sequence[str],
    *,
    missing_reasons: Mapping[tuple[str, str], str] | None = None,
) -> Calibrated:
    """Calibrate every set; a case missing any raw value is left out (and listed)."""
    memberships = {name: calibrate(spec, raw.get(name, {})) for name, spec in specs.items()}
    kept, excluded = [], []
    for case in cases:
        gaps = [name for name in specs if memberships[name].get(case) is None]
        if gaps:
            for name in gaps:
                reason = (missing_reasons or {}).get((name, case), "no value")
                excluded.append({"case": case, "set": name, "reason": reason})
        else:
            kept.append(case)
    if len(kept) < MIN_CASES:
        shown = "; ".join(f"{e['case']} ({e['set']}: {e['reason']})" for e in excluded[:5])
        raise CalibrationError(
            f"only {len(kept)} case(s) have a value for every set; QCA needs at least "
            f"{MIN_CASES}. Left out: {shown}"
        )
    return Calibrated(
        cases=kept,
        raw={name: {c: raw.get(name, {}).get(c) for c in cases} for name in specs},
        memberships={name: {c: memberships[name][c] for c in kept} for name in specs},
        excluded=excluded,
    )


def analyse(
    calibrated: Calibrated,
    *,
    outcome: str,
    conditions: Sequence[str],
    incl_cut: float,
    n_cut: int,
    remainders: str,
) -> dict:
    """Truth table, necessity and the chosen solutions, as JSON-able data."""
    if remainders not in REMAINDERS:
        raise CalibrationError(f"remainders: {remainders!r} is not one of {', '.join(REMAINDERS)}")
    data = calibrated.set_data([*conditions, outcome])
    kinds = {
        "exclude": ["complex"],
        "include": ["parsimonious"],
        "both": ["complex", "parsimonious"],
    }
    results: dict = {"solutions": {}}
    for kind in kinds[remainders]:
        try:
            result = qca.analyse(
                data,
                outcome=outcome,
                conditions=conditions,
                incl_cut=incl_cut,
                n_cut=n_cut,
                include_remainders=kind == "parsimonious",
                with_necessity=True,
            )
        except qca.QCAError as error:
            raise CalibrationError(str(error)) from None
        shaped = result_as_dict(result, source="calibrated sites")
        results["solutions"][kind] = shaped["solutions"]
        results["truth_table"] = shaped["truth_table"]
        results["unassigned_cases"] = shaped["unassigned_cases"]
        results["necessity"] = shaped["necessity"]
        results["set_type"] = shaped["set_type"]
        table = result.truth_table
        results["remainder_rows"] = sum(1 for row in table.rows if row.n == 0)
        results["positive_rows"] = len(table.with_outcome(qca.POSITIVE))
    return results


def memberships_csv(
    memberships: Sequence[Mapping], *, columns: Sequence[str], simulated: bool
) -> str:
    """The membership table as CSV for ``triangulum qca FILE.csv``: the case first, a
    column per set, and for simulated data a last text column saying so (text columns
    are not taken for conditions)."""
    header = ["case", *columns, *(["data"] if simulated else [])]
    body = [
        [row["case"], *(repr(float(row[name])) for name in columns)]
        + (["simulated"] if simulated else [])
        for row in memberships
    ]
    return table_csv(header, body)


# --- the demo ----------------------------------------------------------------------------

DEMO_ACTOR = "triangulum demo"


def demo_calibrations(study) -> list[dict]:
    """The demo's two analyses of the sites, with codes found by name in its codebook."""
    from triangulum.casework.models import Code

    codes = {c.name: c.pk for c in Code.objects.filter(study=study, is_active=True)}
    alliance = codes.get("Clinician–manager alliance")
    collaborative = codes.get("Collaborative leadership style")
    support = codes.get("Managerial support")
    if None in (alliance, collaborative, support):
        return []
    benefits = {
        "source": "survey_share",
        "wave": 2,
        "item": "benefits_achieved",
        "categories": ["moderately", "a_lot"],
        "rationale": "Wave 2: share of the site's responding members saying the benefits of "
        "redesign were achieved moderately or a lot.",
    }
    typology = {
        "source": "typology",
        "method": "members",
        "members": ["1"],
        "rationale": "Class 1 of the wave-1 typology: engages clinicians through formal "
        "governing-body roles and clinical leads.",
    }
    return [
        {
            "name": "Simulated: benefits achieved, crisp (sites)",
            "set_type": "crisp",
            "outcome": "BENEFITS",
            "conditions": ["TYPE1", "ALLIANCE", "SUPPORT"],
            "calibration": {
                "BENEFITS": {**benefits, "method": "threshold", "threshold": 0.5},
                "TYPE1": typology,
                "ALLIANCE": {
                    "source": "code_count",
                    "code": alliance,
                    "method": "threshold",
                    "threshold": 1,
                    "rationale": "The clinician–manager alliance is coded in the site's "
                    "case-study material at least once.",
                },
                "SUPPORT": {
                    "source": "code_count",
                    "code": support,
                    "method": "threshold",
                    "threshold": 1,
                    "rationale": "Managerial support is coded at least once.",
                },
            },
            "incl_cut": 0.8,
            "n_cut": 1,
        },
        {
            "name": "Simulated: benefits achieved, fuzzy (sites)",
            "set_type": "fuzzy",
            "outcome": "BENEFITS",
            "conditions": ["TYPE1", "ALLIANCE", "COLLAB", "SUPPORTSV"],
            "calibration": {
                "BENEFITS": {**benefits, "method": "direct", "anchors": [0.2, 0.55, 0.9]},
                "TYPE1": typology,
                "ALLIANCE": {
                    "source": "code_share",
                    "code": alliance,
                    "method": "direct",
                    "anchors": [0.0, 0.01, 0.03],
                    "rationale": "Share of the site's text coded as the clinician–manager "
                    "alliance: none is out, 1% is the crossover, 3% or more is in.",
                },
                "COLLAB": {
                    "source": "code_share",
                    "code": collaborative,
                    "method": "direct",
                    "anchors": [0.0, 0.01, 0.03],
                    "rationale": "Share of the site's text coded as a collaborative "
                    "leadership style (same anchors).",
                },
                "SUPPORTSV": {
                    "source": "survey_share",
                    "wave": 1,
                    "item": "factor_managerial_support",
                    "categories": ["helped_a_little", "helped_a_lot"],
                    "method": "direct",
                    "anchors": [0.3, 0.6, 0.9],
                    "rationale": "Wave 1: share of members saying support from CCG managers "
                    "helped clinical leadership.",
                },
            },
            "incl_cut": 0.8,
            "n_cut": 1,
        },
    ]


def demo_qca(study, actor=DEMO_ACTOR) -> list:
    """The demo's QCA of the sites: a crisp and a fuzzy analysis, stored as simulated runs.

    Returns the runs made (none when the study has no site cases or codebook to work on)."""
    from triangulum.integration import actions_qca

    runs = []
    for analysis in demo_calibrations(study):
        runs.append(
            actions_qca.run_qca(
                study=study,
                name=analysis["name"],
                unit="site",
                set_type=analysis["set_type"],
                outcome=analysis["outcome"],
                conditions=analysis["conditions"],
                calibration=analysis["calibration"],
                incl_cut=analysis["incl_cut"],
                n_cut=analysis["n_cut"],
                remainders="both",
                actor=actor,
            )
        )
    return runs
