"""The demo's simulated fieldwork: governing bodies, call histories and answers.

A documented model (docs/simulation.md, ADR 0013) with known true values, so that an
analysis can be checked against the truth. Everything here is fictitious and labelled
so: names end in "(simulated)", telephone numbers come from Ofcom's ranges reserved for
drama, e-mail addresses use the reserved example.org domain.

Pure computation (numpy, the standard library): no Django. ``simulate(ccgs, seed=…)``
takes the real CCGs (codes and open/close dates) and returns every member, every case
of both waves and the true values; the same seed gives the same result.

Answers are ordered-probit draws: a member's latent view is
``y = loading × (0.5·u_ccg + 0.5·v_person) + role_shift + e`` with ``e ~ N(0, 1)``; the
cut-points of each item and wave are calibrated on that wave's whole population of
governing-body members so that the expected share of each answer equals its target
(``ITEM_TARGETS``). The published figures are among the targets, so they are the true
values a survey estimate should cover (``TRUE_VALUES``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from scipy.special import ndtr

from .outcomes import OUTCOMES, code_at_close, stopped_code

LONDON = ZoneInfo("Europe/London")
SIMULATED = "(simulated)"

# --------------------------------------------------------------------------- waves


@dataclass(frozen=True)
class WaveSpec:
    number: int
    name: str
    frame_vintage: dt.date
    field_start: dt.date
    field_end: dt.date
    max_attempts: int = 8


WAVES = {
    1: WaveSpec(
        1,
        "Wave 1 (2014): national survey of CCG governing-body members",
        dt.date(2013, 4, 1),
        dt.date(2014, 4, 7),
        dt.date(2014, 7, 18),
    ),
    2: WaveSpec(
        2,
        "Wave 2 (2016): generalisation survey of CCG governing-body members",
        dt.date(2016, 4, 1),
        dt.date(2016, 4, 11),
        dt.date(2016, 7, 22),
    ),
}
CALLING_WINDOW = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}

# --------------------------------------------------------------------------- true values

# Calibration targets that are also the truth an estimate must cover: the expected share
# among all governing-body members of the wave's CCGs (for clinical_centrality: among
# members whose CCG had redesigned services, the only ones asked).
TRUE_VALUES = {
    "vision_set=equally": {1: 0.33, 2: 0.54},
    "clinical_centrality=nearly_all": {1: 0.35, 2: 0.35},
    "clinical_centrality=significant_proportion": {1: 0.25, 2: 0.25},
    "infl_nhse in (quite_a_lot, very_extensive)": {1: 0.50, 2: 0.50},
}
# Board composition (approximate: realised by the draw, not calibrated exactly).
COMPOSITION_TARGETS = {"members_2013": 3100, "gp_share": 0.43, "gp_majority_boards": 0.29}

# --------------------------------------------------------------------------- roles

# Form role → (participant role category, professions and their chances).
ROLE_CATEGORY = {
    "chair": "chair",
    "accountable_officer": "accountable_officer",
    "chief_finance_officer": "chief_finance_officer",
    "gp_member": "gp_member",
    "nurse": "nurse",
    "secondary_care_doctor": "secondary_care_doctor",
    "lay_member": "lay_member",
    "other_member": "manager",
}
JOB_TITLES = {
    "chair": "Chair of the governing body",
    "accountable_officer": "Accountable officer",
    "chief_finance_officer": "Chief finance officer",
    "gp_member": "GP member of the governing body",
    "nurse": "Registered nurse member",
    "secondary_care_doctor": "Secondary-care specialist doctor member",
    "lay_member": "Lay member",
    "other_member": "Director (governing-body member)",
}
# Chance of answering when reached (cooperation), by role: chairs, accountable officers
# and lay members co-operate most, GP members and hospital doctors least.
COOPERATION = {
    "chair": 0.80,
    "accountable_officer": 0.75,
    "chief_finance_officer": 0.60,
    "gp_member": 0.55,
    "nurse": 0.65,
    "secondary_care_doctor": 0.50,
    "lay_member": 0.75,
    "other_member": 0.60,
}
# Per attempt: chance a gatekeeper (PA, receptionist) answers, chance the member does.
REACH = {
    "chair": (0.20, 0.15),
    "accountable_officer": (0.35, 0.12),
    "chief_finance_officer": (0.30, 0.13),
    "gp_member": (0.25, 0.10),
    "nurse": (0.12, 0.18),
    "secondary_care_doctor": (0.25, 0.09),
    "lay_member": (0.00, 0.22),
    "other_member": (0.20, 0.15),
}
# Chance a member stays on the board from 2014 to 2016 (if the CCG continues).
STAY = {
    "chair": 0.70,
    "accountable_officer": 0.60,
    "chief_finance_officer": 0.60,
    "gp_member": 0.70,
    "nurse": 0.60,
    "secondary_care_doctor": 0.60,
    "lay_member": 0.70,
    "other_member": 0.55,
}

# --------------------------------------------------------------------------- items

INFLUENCE = ("none", "a_little", "some", "quite_a_lot", "very_extensive")
VISION = ("mainly_managers", "more_managers", "equally", "more_clinicians", "mainly_clinicians")
QUALITY = ("very_poor", "poor", "adequate", "good", "very_good")
CENTRALITY = ("none_of_them", "a_few", "some", "significant_proportion", "nearly_all")
EXTENT = ("not_at_all", "a_little", "moderately", "a_lot")
AGREEMENT = ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree")
EFFECT = ("hindered_a_lot", "hindered_a_little", "neither", "helped_a_little", "helped_a_lot")


@dataclass(frozen=True)
class OrdinalItem:
    """An item answered on an ordered scale, plus "don't know"/"not applicable"."""

    name: str
    scale: tuple[str, ...]
    # Wave → expected shares of each scale point, then dont_know, then not_applicable.
    targets: dict[int, tuple[float, ...]]
    loading: float = 1.0  # how strongly the CCG's climate and the person's outlook push it
    role_shift: dict[str, float] = field(default_factory=dict)
    offers_not_applicable: bool = False

    def shares(self, wave: int) -> dict[str, float]:
        values = self.targets[wave]
        names = [*self.scale, "dont_know"] + (
            ["not_applicable"] if self.offers_not_applicable else []
        )
        if len(values) != len(names):
            raise ValueError(f"{self.name}: {len(values)} targets for {len(names)} answers")
        return dict(zip(names, values, strict=True))


def _both(*shares: float) -> dict[int, tuple[float, ...]]:
    return {1: shares, 2: shares}


# Role shifts for the CCG's own influence: chairs and accountable officers rate it
# markedly higher than finance officers and GP members (published finding).
CCG_INFLUENCE_SHIFT = {
    "chair": 0.6,
    "accountable_officer": 0.6,
    "chief_finance_officer": -0.4,
    "gp_member": -0.4,
}

ORDINAL_ITEMS: tuple[OrdinalItem, ...] = (
    OrdinalItem(
        "infl_ccg", INFLUENCE, _both(0.02, 0.08, 0.30, 0.40, 0.17, 0.03), 1.0, CCG_INFLUENCE_SHIFT
    ),
    OrdinalItem("infl_la", INFLUENCE, _both(0.05, 0.25, 0.40, 0.20, 0.05, 0.05), 0.5),
    OrdinalItem("infl_hwb", INFLUENCE, _both(0.10, 0.30, 0.35, 0.15, 0.04, 0.06), 0.5),
    OrdinalItem("infl_providers", INFLUENCE, _both(0.02, 0.10, 0.35, 0.38, 0.12, 0.03), 0.3),
    OrdinalItem("infl_nhse", INFLUENCE, _both(0.03, 0.12, 0.32, 0.33, 0.17, 0.03), 0.3),
    OrdinalItem("infl_gps", INFLUENCE, _both(0.01, 0.07, 0.30, 0.42, 0.17, 0.03), 1.0),
    OrdinalItem("infl_managers", INFLUENCE, _both(0.01, 0.04, 0.25, 0.47, 0.20, 0.03), 0.3),
    OrdinalItem(
        "vision_set",
        VISION,
        {1: (0.12, 0.30, 0.33, 0.15, 0.05, 0.05), 2: (0.05, 0.17, 0.54, 0.14, 0.05, 0.05)},
        0.8,
    ),
    OrdinalItem(
        "comm_secondary",
        QUALITY,
        {1: (0.05, 0.20, 0.40, 0.27, 0.05, 0.03), 2: (0.04, 0.17, 0.40, 0.31, 0.05, 0.03)},
    ),
    OrdinalItem("comm_public", QUALITY, _both(0.03, 0.15, 0.42, 0.32, 0.05, 0.03)),
    OrdinalItem("clinical_centrality", CENTRALITY, _both(0.03, 0.10, 0.22, 0.25, 0.35, 0.05)),
    OrdinalItem(
        "mode_governing_roles",
        EXTENT,
        _both(0.01, 0.07, 0.30, 0.58, 0.03, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_clinical_leads",
        EXTENT,
        _both(0.02, 0.10, 0.35, 0.48, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_localities",
        EXTENT,
        _both(0.03, 0.15, 0.37, 0.40, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_networks",
        EXTENT,
        _both(0.08, 0.30, 0.38, 0.15, 0.08, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_secondary_care",
        EXTENT,
        _both(0.08, 0.35, 0.35, 0.15, 0.06, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_community",
        EXTENT,
        _both(0.06, 0.30, 0.38, 0.19, 0.06, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "mode_ppi", EXTENT, _both(0.03, 0.22, 0.42, 0.27, 0.05, 0.01), offers_not_applicable=True
    ),
    OrdinalItem(
        "scope_primary",
        EXTENT,
        _both(0.02, 0.10, 0.35, 0.48, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "scope_acute", EXTENT, _both(0.06, 0.30, 0.40, 0.18, 0.05, 0.01), offers_not_applicable=True
    ),
    OrdinalItem(
        "scope_community",
        EXTENT,
        _both(0.03, 0.20, 0.42, 0.30, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "scope_mental_health",
        EXTENT,
        _both(0.08, 0.35, 0.35, 0.14, 0.07, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "scope_social_care",
        EXTENT,
        _both(0.12, 0.38, 0.30, 0.10, 0.08, 0.02),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "hwb_scope",
        AGREEMENT,
        _both(0.05, 0.20, 0.30, 0.32, 0.06, 0.06, 0.01),
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "benefits_achieved",
        EXTENT,
        _both(0.03, 0.30, 0.45, 0.14, 0.07, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_relationships",
        EFFECT,
        _both(0.03, 0.10, 0.12, 0.40, 0.30, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_managerial_support",
        EFFECT,
        _both(0.02, 0.06, 0.12, 0.38, 0.38, 0.03, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_clinician_time",
        EFFECT,
        _both(0.25, 0.40, 0.15, 0.10, 0.05, 0.04, 0.01),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_conflicts",
        EFFECT,
        _both(0.15, 0.35, 0.30, 0.07, 0.03, 0.08, 0.02),
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_national_policy",
        EFFECT,
        _both(0.20, 0.35, 0.20, 0.15, 0.04, 0.05, 0.01),
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_money",
        EFFECT,
        _both(0.35, 0.35, 0.10, 0.10, 0.05, 0.04, 0.01),
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_reorganisation",
        EFFECT,
        _both(0.25, 0.35, 0.20, 0.10, 0.04, 0.05, 0.01),
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_provider_resistance",
        EFFECT,
        _both(0.15, 0.40, 0.22, 0.10, 0.03, 0.08, 0.02),
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "factor_data_it",
        EFFECT,
        _both(0.20, 0.38, 0.20, 0.12, 0.04, 0.05, 0.01),
        0.5,
        offers_not_applicable=True,
    ),
    # Wave 2 only: propositions from the case studies.
    OrdinalItem(
        "prop_collaborative_style",
        AGREEMENT,
        {2: (0.01, 0.05, 0.14, 0.50, 0.26, 0.03, 0.01)},
        0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_every_level",
        AGREEMENT,
        {2: (0.01, 0.03, 0.08, 0.45, 0.40, 0.02, 0.01)},
        0.3,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_alliance",
        AGREEMENT,
        {2: (0.02, 0.10, 0.20, 0.48, 0.16, 0.03, 0.01)},
        1.0,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_barriers",
        AGREEMENT,
        {2: (0.02, 0.15, 0.25, 0.40, 0.13, 0.04, 0.01)},
        -0.5,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_policy_uncertainty",
        AGREEMENT,
        {2: (0.02, 0.10, 0.20, 0.45, 0.19, 0.03, 0.01)},
        -0.3,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_market_levers",
        AGREEMENT,
        {2: (0.20, 0.42, 0.18, 0.12, 0.03, 0.04, 0.01)},
        0.2,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_grassroots",
        AGREEMENT,
        {2: (0.08, 0.38, 0.26, 0.20, 0.04, 0.03, 0.01)},
        0.8,
        offers_not_applicable=True,
    ),
    OrdinalItem(
        "prop_pipeline",
        AGREEMENT,
        {2: (0.10, 0.40, 0.27, 0.15, 0.03, 0.04, 0.01)},
        0.5,
        offers_not_applicable=True,
    ),
)

# Unordered single choices: wave → shares (no latent view: independent of everything).
CATEGORICAL_ITEMS = {
    "redesign_any": {w: {"yes": 0.90, "no": 0.05, "dont_know": 0.05} for w in (1, 2)},
    "built_on_existing": {
        w: {"mainly_existing": 0.35, "both": 0.40, "mainly_new": 0.17, "dont_know": 0.08}
        for w in (1, 2)
    },
    "notable_redesign": {
        2: {
            "frail_older_people": 0.30,
            "long_term_conditions": 0.24,
            "urgent_care": 0.14,
            "mental_health": 0.07,
            "planned_care": 0.09,
            "primary_care": 0.08,
            "other": 0.03,
            "dont_know": 0.05,
        }
    },
}
SECTOR_CHANCE = {
    "primary": 0.85,
    "acute": 0.70,
    "community": 0.80,
    "mental_health": 0.40,
    "social_care": 0.55,
    "voluntary": 0.30,
}
BENEFIT_CHANCE = {
    "quality": 0.80,
    "integration": 0.65,
    "access": 0.50,
    "efficiency": 0.60,
    "patient_experience": 0.45,
    "population_health": 0.35,
}
HWB_MEMBER_CHANCE = {"chair": 0.80, "accountable_officer": 0.85}
HWB_MEMBER_OTHERWISE = 0.08
COMMENTS = (
    "(simulated comment) Clinical leads have made the difference on the frail elderly pathway.",
    "(simulated comment) GP members have too little protected time for this work.",
    "(simulated comment) The area team's requirements take up much of the governing body's agenda.",
    "(simulated comment) Hospital consultants are hard to involve beyond the planned care programme.",
    "(simulated comment) Locality meetings are where most practices hear about the CCG's plans.",
    "(simulated comment) Financial recovery has pushed redesign down the list this year.",
)
OTHER_MEMBER_ROLES = {
    "manager": "(simulated answer) Director of commissioning",
    "other_clinician": "(simulated answer) Clinical lead for pharmacy",
}
NOTABLE_OTHER = "(simulated answer) A joint respiratory service run with the community trust."

# --------------------------------------------------------------------------- call outcomes

# Call outcomes are the interviewer's own (``fieldwork.outcomes``), so simulated histories
# read like recorded ones; a case's final code follows the same rules as closing a wave.
USED_OUTCOMES = (
    "no_answer",
    "busy",
    "answering_machine",
    "soft_appointment",
    "hard_appointment",
    "gatekeeper_refusal",
    "respondent_refusal",
    "break_off",
    "complete",
    "left_role",
)
OUT_OF_SAMPLE = OUTCOMES["organisation_closed"].code  # 4.10
# Shares of the applicable items answered before a stop: well clear of the partial
# threshold (outcomes.PARTIAL_THRESHOLD), so any count of applicable items agrees.
PARTIAL_SHARE = (0.65, 0.9)
BREAK_OFF_SHARE = (0.1, 0.3)


# --------------------------------------------------------------------------- fictitious people

INVENTED_SURNAMES = (
    "Amberwick",
    "Brackenholt",
    "Candlefold",
    "Dapplethorn",
    "Emberlyn",
    "Fernhallow",
    "Gorsebrook",
    "Hazelmere",
    "Inkwater",
    "Juniperry",
    "Kestrelby",
    "Larchcombe",
    "Mossgrove",
    "Nettlefield",
    "Oakhithe",
    "Pebblecott",
    "Quillbank",
    "Rookstead",
    "Sedgewold",
    "Thistlecombe",
    "Umberlee",
    "Vetchley",
    "Willowmarsh",
    "Yarrowdene",
    "Alderquist",
    "Bramblecote",
    "Cloverhythe",
    "Driftholme",
    "Elmscourt",
    "Foxgloving",
    "Glimmerton",
    "Heathercot",
    "Ivybridgeham",
    "Kelpmoor",
    "Lichenfold",
    "Marramby",
    "Nightjarrow",
    "Orchardly",
    "Plovercombe",
    "Reedwarren",
    "Samphirey",
    "Teasleham",
)
GIVEN_NAMES = (
    "Alex",
    "Bea",
    "Cal",
    "Dee",
    "Eli",
    "Fay",
    "Gil",
    "Hal",
    "Ida",
    "Jem",
    "Kit",
    "Lou",
    "Max",
    "Nell",
    "Oli",
    "Pip",
    "Ros",
    "Sam",
    "Tam",
    "Val",
    "Wyn",
    "Zed",
)
# Ofcom keeps these numbers for drama: no one can be reached on them.
DRAMA_LANDLINE_PREFIXES = (
    "01632 960",
    "020 7946 0",
    "0113 496 0",
    "0114 496 0",
    "0115 496 0",
    "0116 496 0",
    "0117 496 0",
    "0118 496 0",
    "0121 496 0",
    "0131 496 0",
    "0141 496 0",
    "0151 496 0",
    "0161 496 0",
    "0191 498 0",
)
DRAMA_MOBILE_PREFIX = "07700 900"
DOCTOR_PROFESSIONS = {"gp", "hospital_doctor"}

# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class CCG:
    code: str
    name: str
    open_date: dt.date | None
    close_date: dt.date | None

    def open_on(self, day: dt.date) -> bool:
        return (self.open_date is None or self.open_date <= day) and (
            self.close_date is None or self.close_date >= day
        )


@dataclass
class Member:
    """One fictitious governing-body member."""

    key: str  # stable within a run: "M0001" …
    ccg_code: str
    role: str  # a choice of the form's member_role list
    profession: str  # a choice of the form's profession list
    full_name: str
    job_title: str
    email: str
    phone: str
    person_effect: float
    waves: set[int] = field(default_factory=set)
    years_on_board: dict[int, int] = field(default_factory=dict)

    @property
    def role_category(self) -> str:
        return ROLE_CATEGORY[self.role]

    @property
    def is_simulated(self) -> bool:
        return self.full_name.endswith(SIMULATED)


@dataclass(frozen=True)
class Call:
    started_at: dt.datetime
    ended_at: dt.datetime
    number_dialled: str
    outcome: str
    aapor_code: str
    notes: str = ""


@dataclass(frozen=True)
class Appointment:
    made_at: dt.datetime
    due_at: dt.datetime
    kind: str  # "hard" or "soft"
    status: str  # "kept" or "missed"


@dataclass
class Case:
    """One member in one wave: how fieldwork went and what they answered."""

    member_key: str
    wave: int
    mode: str = "telephone"
    disposition: str = ""
    calls: list[Call] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    answers: dict[str, object] = field(default_factory=dict)  # item name → value
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    resume_at: str = ""  # the name of the item a stopped interview would resume at

    @property
    def is_complete(self) -> bool:
        return self.disposition == "1.1"


@dataclass
class SimulatedWave:
    spec: WaveSpec
    ccg_codes: list[str]  # CCGs open at the wave's frame vintage
    cases: list[Case]


@dataclass
class SimulatedFieldwork:
    seed: int
    members: list[Member]
    waves: dict[int, SimulatedWave]
    truth: dict

    def member(self, key: str) -> Member:
        return self._by_key[key]

    def __post_init__(self):
        self._by_key = {m.key: m for m in self.members}


# --------------------------------------------------------------------------- boards


def _board_roles(rng: np.random.Generator, gp_led: bool) -> list[tuple[str, str]]:
    """(role, profession) of one governing body, sized around 15 (see docs/simulation.md).

    A GP-led board has eight to eleven GP members, two lay members and no other members,
    so its GPs are always a majority; any other board has at most six GP members and at
    least one other member, so its GPs never are.
    """
    if gp_led:
        gp_members = int(rng.choice([8, 9, 10, 11], p=[0.30, 0.35, 0.25, 0.10]))
        others = 0
    else:
        gp_members = int(rng.choice([3, 4, 5, 6], p=[0.32, 0.35, 0.22, 0.11]))
        others = int(rng.choice([1, 2, 3, 4], p=[0.12, 0.28, 0.36, 0.24]))
    lay = 2 if gp_led or rng.random() < 0.55 else 3
    chair_profession = str(rng.choice(["gp", "lay", "hospital_doctor"], p=[0.80, 0.14, 0.06]))
    roles = [
        ("chair", chair_profession),
        ("accountable_officer", "manager"),
        ("chief_finance_officer", "manager"),
        ("nurse", "nurse"),
        ("secondary_care_doctor", "hospital_doctor"),
    ]
    roles += [("lay_member", "lay")] * lay
    roles += [("gp_member", "gp")] * gp_members
    roles += [
        ("other_member", "manager" if rng.random() < 0.7 else "other_clinician")
        for _ in range(others)
    ]
    return roles


class _People:
    """Fictitious names, unique drama-range numbers and example.org addresses."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        numbers = [f"{prefix}{n:03d}" for prefix in DRAMA_LANDLINE_PREFIXES for n in range(1000)]
        numbers += [f"{DRAMA_MOBILE_PREFIX}{n:03d}" for n in range(1000)]
        order = rng.permutation(len(numbers))
        self.numbers = [numbers[i] for i in order]
        self.count = 0

    def new(self, ccg_code: str, role: str, profession: str, wave: int) -> Member:
        self.count += 1
        index = self.count
        given = GIVEN_NAMES[int(self.rng.integers(len(GIVEN_NAMES)))]
        surname = INVENTED_SURNAMES[int(self.rng.integers(len(INVENTED_SURNAMES)))]
        title = (
            "Dr" if profession in DOCTOR_PROFESSIONS else str(self.rng.choice(["Ms", "Mr", "Mx"]))
        )
        return Member(
            key=f"M{index:04d}",
            ccg_code=ccg_code,
            role=role,
            profession=profession,
            full_name=f"{title} {given} {surname} {SIMULATED}",
            job_title=JOB_TITLES[role],
            email=f"{given}.{surname}.{index}@example.org".lower(),
            phone=self.numbers[(index - 1) % len(self.numbers)],
            person_effect=float(self.rng.normal()),
            waves={wave},
        )


def composition(members: Iterable[Member]) -> dict[str, float]:
    """Board statistics of a set of members: size, GP share, boards with a GP majority."""
    boards: dict[str, list[Member]] = {}
    for member in members:
        boards.setdefault(member.ccg_code, []).append(member)
    total = sum(len(b) for b in boards.values())
    gps = sum(1 for b in boards.values() for m in b if m.profession == "gp")
    majority = sum(1 for b in boards.values() if 2 * sum(m.profession == "gp" for m in b) > len(b))
    return {
        "boards": len(boards),
        "members": total,
        "mean_board_size": total / len(boards) if boards else 0.0,
        "gp_share": gps / total if total else 0.0,
        "gp_majority_boards": majority / len(boards) if boards else 0.0,
    }


# --------------------------------------------------------------------------- answers


def _calibrate_cutpoints(means: np.ndarray, cumulative: Sequence[float]) -> np.ndarray:
    """Cut-points τ with mean(Φ(τ_k − μ_i)) = cumulative[k] (bisection, vectorised)."""
    cuts = []
    for target in cumulative:
        low, high = -12.0, 12.0
        for _ in range(60):
            mid = (low + high) / 2
            if ndtr(mid - means).mean() < target:
                low = mid
            else:
                high = mid
        cuts.append((low + high) / 2)
    return np.array(cuts)


def _ordinal_answers(
    item: OrdinalItem, wave: int, members: list[Member], climate: dict[str, float], rng
) -> tuple[list[str], dict]:
    shares = item.shares(wave)
    if abs(sum(shares.values()) - 1) > 1e-9:
        raise ValueError(f"{item.name}: wave {wave} targets add up to {sum(shares.values())}")
    means = np.array(
        [
            item.loading * (0.5 * climate[m.ccg_code] + 0.5 * m.person_effect)
            + item.role_shift.get(m.role, 0.0)
            for m in members
        ]
    )
    missing = {k: v for k, v in shares.items() if k not in item.scale}
    substantive = 1 - sum(missing.values())
    cumulative = np.cumsum([shares[k] / substantive for k in item.scale])[:-1]
    cuts = _calibrate_cutpoints(means, cumulative)
    latent = means + rng.normal(size=len(members))
    chosen = [item.scale[i] for i in np.searchsorted(cuts, latent)]
    # "Don't know" and "not applicable" are drawn apart from the view, at fixed rates.
    extra = rng.random(len(members))
    edge = 0.0
    for name, share in missing.items():
        hit = (extra >= edge) & (extra < edge + share)
        chosen = [name if h else c for c, h in zip(chosen, hit, strict=True)]
        edge += share
    # Expected share of each answer per member (the model's truth for this population).
    upper = np.vstack([ndtr(cuts[k] - means) for k in range(len(cuts))] + [np.ones(len(means))])
    lower = np.vstack([np.zeros(len(means)), upper[:-1]])
    expected = (upper - lower) * substantive
    return chosen, {"cuts": cuts, "expected": expected}


def _choose(rng, shares: dict[str, float]) -> str:
    names = list(shares)
    return names[int(rng.choice(len(names), p=list(shares.values())))]


def _some_of(rng, chances: dict[str, float]) -> list[str]:
    return [name for name, chance in chances.items() if rng.random() < chance]


def _draw_answers(
    wave: int, members: list[Member], climate: dict[str, float], rng, truth: dict
) -> list[dict[str, object]]:
    """Every member's full answers in a wave (fieldwork later decides who gives them)."""
    answers: list[dict[str, object]] = [dict() for _ in members]
    for index, member in enumerate(members):
        row = answers[index]
        row["role"] = member.role
        if member.role == "other_member":
            row["role_other"] = OTHER_MEMBER_ROLES[member.profession]
        row["profession"] = member.profession
        row["years_on_board"] = member.years_on_board[wave]
        if wave == 1:
            row["shadow_board"] = "yes" if rng.random() < 0.8 else "no"
        if member.profession == "gp":
            low, high = (3, 8) if member.role == "chair" else (1, 4)
            row["gp_sessions"] = int(rng.integers(low, high + 1))
    by_role: dict[str, list[int]] = {}
    for index, member in enumerate(members):
        by_role.setdefault(member.role, []).append(index)
    for item in ORDINAL_ITEMS:
        if wave not in item.targets:
            continue
        chosen, fitted = _ordinal_answers(item, wave, members, climate, rng)
        for row, value in zip(answers, chosen, strict=True):
            row[item.name] = value
        expected = fitted["expected"]
        truth.setdefault("expected_shares", {}).setdefault(wave, {})[item.name] = {
            name: float(expected[k].mean()) for k, name in enumerate(item.scale)
        }
        if item.name == "infl_ccg":
            high = expected[3] + expected[4]
            truth.setdefault("infl_ccg_high_by_role", {})[wave] = {
                role: float(high[idx].mean()) for role, idx in sorted(by_role.items())
            }
    for index, member in enumerate(members):
        row = answers[index]
        for name, by_wave in CATEGORICAL_ITEMS.items():
            if wave in by_wave:
                row[name] = _choose(rng, by_wave[wave])
        if row["redesign_any"] == "yes":
            row["redesign_sectors"] = _some_of(rng, SECTOR_CHANCE) or ["primary"]
        else:
            del row["clinical_centrality"]
            row.pop("notable_redesign", None)
        if row.get("notable_redesign") == "other":
            row["notable_other"] = NOTABLE_OTHER
        member_chance = HWB_MEMBER_CHANCE.get(member.role, HWB_MEMBER_OTHERWISE)
        row["hwb_member"] = "yes" if rng.random() < member_chance else "no"
        if row["hwb_member"] == "yes":
            row["hwb_meetings"] = int(rng.integers(2, 9))
        benefits = _some_of(rng, BENEFIT_CHANCE) or ["none"]
        row["benefits_targeted"] = benefits
        if len(benefits) > 1:
            row["main_benefit"] = benefits[int(rng.integers(len(benefits)))]
        if rng.random() < 0.15:
            row["comments"] = COMMENTS[int(rng.integers(len(COMMENTS)))]
    return answers


# --------------------------------------------------------------------------- calls


class _Clock:
    """Call times on weekdays between 09:00 and 17:30, London time, stored in UTC."""

    def __init__(self, rng, spec: WaveSpec):
        self.rng = rng
        self.spec = spec

    def working_day(self, day: dt.date, ahead: int) -> dt.date:
        while ahead > 0 or day.weekday() >= 5:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                ahead -= 1
        return day

    def at(self, day: dt.date) -> dt.datetime:
        minutes = int(self.rng.integers(9 * 60, 17 * 60 + 15))
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=LONDON)
        return local.astimezone(dt.UTC)

    def local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(LONDON).date()


def _interview_length(rng) -> dt.timedelta:
    return dt.timedelta(minutes=int(rng.integers(18, 35)))


def _asked_order(answers: dict[str, object], item_order: Sequence[str]) -> list[str]:
    return [name for name in item_order if name in answers]


class _History:
    """One case's calls, told as a story: who picks up, what they say, what follows."""

    def __init__(self, case: Case, member: Member, full, item_order, clock: _Clock, rng):
        self.case, self.member, self.full = case, member, full
        self.item_order, self.clock, self.rng = item_order, clock, rng
        self.left_board = rng.random() < 0.02
        self.requested: str | None = None  # "web" or "paper" once a link or form is sent
        self.appointment: Appointment | None = None

    def call(self, moment: dt.datetime, outcome: str, minutes: int = 2, notes: str = ""):
        self.case.calls.append(
            Call(
                moment,
                moment + dt.timedelta(minutes=minutes),
                self.member.phone,
                outcome,
                OUTCOMES[outcome].code,
                notes,
            )
        )

    def finish(self, code: str) -> bool:
        self.case.disposition = code
        return True

    def interview(self, moment: dt.datetime) -> bool:
        case, rng = self.case, self.rng
        case.started_at = case.started_at or moment
        minutes = int(rng.integers(18, 35))
        if rng.random() < 0.06:
            low, high = PARTIAL_SHARE if rng.random() < 0.5 else BREAK_OFF_SHARE
            share = float(rng.uniform(low, high))
            asked = _asked_order(self.full, self.item_order)
            kept = max(1, int(len(asked) * share))
            case.answers = {name: self.full[name] for name in asked[:kept]}
            case.resume_at = asked[kept]
            self.call(moment, "break_off", max(1, int(minutes * share)))
            return self.finish(stopped_code(kept, len(asked)))
        case.answers = dict(self.full)
        case.completed_at = moment + dt.timedelta(minutes=minutes)
        self.call(moment, "complete", minutes)
        return self.finish("1.1")

    def self_completion(self, moment: dt.datetime) -> bool:
        """The member asked for the web link or a paper form: some send it back."""
        case, rng = self.case, self.rng
        self.requested = "web" if rng.random() < 0.6 else "paper"
        what = "web link e-mailed" if self.requested == "web" else "paper questionnaire posted"
        self.call(moment, "soft_appointment", notes=f"Asked to self-complete: {what}")
        if rng.random() < (0.7 if self.requested == "web" else 0.6):
            case.mode = self.requested
            case.started_at = moment + dt.timedelta(days=int(rng.integers(1, 10)))
            case.answers = dict(self.full)
            case.completed_at = case.started_at + dt.timedelta(minutes=int(rng.integers(15, 40)))
            return self.finish("1.1")
        return False

    def member_on_line(self, moment: dt.datetime) -> bool:
        rng = self.rng
        if self.left_board:
            self.call(moment, "left_role", notes="Told us they had left the governing body")
            return self.finish(OUTCOMES["left_role"].code)
        if rng.random() > COOPERATION[self.member.role]:
            self.call(moment, "respondent_refusal")
            return self.finish(OUTCOMES["respondent_refusal"].code)
        choice = rng.random()
        if choice < 0.35 or self.requested:
            return self.interview(moment)
        if choice < 0.75:
            self.call(moment, "hard_appointment")
            self.book(moment, "hard", int(rng.integers(1, 6)))
            return False
        return self.self_completion(moment)

    def gatekeeper_on_line(self, moment: dt.datetime) -> bool:
        rng = self.rng
        if self.left_board:
            self.call(moment, "left_role", notes="The office said the member had left")
            return self.finish(OUTCOMES["left_role"].code)
        if rng.random() < 0.05:
            self.call(moment, "gatekeeper_refusal")
            return self.finish(OUTCOMES["gatekeeper_refusal"].code)
        if rng.random() < 0.3:
            self.call(moment, "soft_appointment", notes="The office suggested a better time")
            self.book(moment, "soft", int(rng.integers(1, 4)))
        else:
            self.call(moment, "no_answer", notes="The office said the member was not available")
        return False

    def book(self, moment: dt.datetime, kind: str, days_ahead: int) -> None:
        day = self.clock.working_day(self.clock.local_day(moment), days_ahead)
        self.appointment = Appointment(moment, self.clock.at(day), kind, "pending")

    def keep_appointment(self) -> tuple[dt.datetime, bool]:
        due, self.appointment = self.appointment, None
        kept = self.rng.random() < 0.8
        self.case.appointments.append(
            Appointment(due.made_at, due.due_at, due.kind, "kept" if kept else "missed")
        )
        moment = due.due_at
        if not kept:
            self.call(moment, "no_answer", notes="Appointment missed")
            return moment, False
        if due.kind == "hard":  # the member has already agreed to be interviewed
            return moment, self.interview(moment)
        return moment, self.member_on_line(moment)

    def run(self) -> None:
        spec, clock, rng = self.clock.spec, self.clock, self.rng
        gatekeeper_chance, member_chance = REACH[self.member.role]
        day = clock.working_day(spec.field_start, int(rng.integers(0, 10)))
        while len(self.case.calls) < spec.max_attempts and day <= spec.field_end:
            if self.appointment is not None:
                moment, done = self.keep_appointment()
            else:
                moment = clock.at(day)
                draw = rng.random()
                if draw < gatekeeper_chance:
                    done = self.gatekeeper_on_line(moment)
                elif draw < gatekeeper_chance + member_chance:
                    done = self.member_on_line(moment)
                else:
                    outcome = ("no_answer", "busy", "answering_machine")[
                        int(rng.choice(3, p=[0.55, 0.10, 0.35]))
                    ]
                    self.call(moment, outcome, 1)
                    done = False
            if done:
                return
            if self.appointment is None:
                day = clock.working_day(clock.local_day(moment), int(rng.integers(1, 6)))
            elif clock.local_day(self.appointment.due_at) > spec.field_end:
                due = self.appointment
                self.case.appointments.append(
                    Appointment(due.made_at, due.due_at, due.kind, "missed")
                )
                self.appointment = None
                break
        # Fieldwork closed on this case: the code the last call leaves, as close_wave does.
        last = self.case.calls[-1].outcome if self.case.calls else None
        self.finish(code_at_close(last_outcome=last))


# --------------------------------------------------------------------------- the whole run


def simulate(
    ccgs: Sequence[CCG],
    *,
    seed: int,
    item_order: dict[int, Sequence[str]],
    waves: dict[int, WaveSpec] = WAVES,
) -> SimulatedFieldwork:
    """Members, cases and truth for both waves; ``item_order`` lists each form's items.

    A CCG open at wave 1's vintage but closed by wave 2's is out of sample in wave 2
    (AAPOR 4.10) for all its members; a CCG opened between the vintages gets a new board.
    """
    rng = np.random.default_rng(seed)
    people = _People(rng)
    first, second = waves[1], waves[2]
    ccgs = sorted(ccgs, key=lambda c: c.code)
    wave1_ccgs = [c for c in ccgs if c.open_on(first.frame_vintage)]
    wave2_ccgs = [c for c in ccgs if c.open_on(second.frame_vintage)]
    climate = {c.code: float(rng.normal()) for c in ccgs}
    members: list[Member] = []

    gp_led_count = round(COMPOSITION_TARGETS["gp_majority_boards"] * len(wave1_ccgs))
    gp_led = {wave1_ccgs[i].code for i in rng.permutation(len(wave1_ccgs))[:gp_led_count]}
    for ccg in wave1_ccgs:
        for role, profession in _board_roles(rng, ccg.code in gp_led):
            member = people.new(ccg.code, role, profession, 1)
            member.years_on_board[1] = int(rng.choice([0, 1, 2], p=[0.25, 0.45, 0.30]))
            members.append(member)
    wave2_codes = {c.code for c in wave2_ccgs}
    gap = second.field_start.year - first.field_start.year
    for member in list(members):
        if member.ccg_code not in wave2_codes:
            continue
        if rng.random() < STAY[member.role]:
            member.waves.add(2)
            member.years_on_board[2] = member.years_on_board[1] + gap
        else:
            successor = people.new(member.ccg_code, member.role, member.profession, 2)
            successor.years_on_board[2] = int(rng.choice([0, 1], p=[0.6, 0.4]))
            members.append(successor)
    wave1_codes = {c.code for c in wave1_ccgs}
    for ccg in wave2_ccgs:
        if ccg.code in wave1_codes:
            continue
        board = _board_roles(rng, rng.random() < COMPOSITION_TARGETS["gp_majority_boards"])
        for role, profession in board:
            member = people.new(ccg.code, role, profession, 2)
            member.years_on_board[2] = int(rng.choice([0, 1], p=[0.5, 0.5]))
            members.append(member)

    truth: dict = {"targets": TRUE_VALUES, "composition": {}}
    result_waves: dict[int, SimulatedWave] = {}
    for number, spec in sorted(waves.items()):
        population = [m for m in members if number in m.waves]
        truth["composition"][number] = composition(population)
        full_answers = _draw_answers(number, population, climate, rng, truth)
        clock = _Clock(rng, spec)
        cases = []
        order = item_order[number]
        for member, full in zip(population, full_answers, strict=True):
            case = Case(member.key, number)
            _History(case, member, full, order, clock, rng).run()
            cases.append(case)
        if number == 2:
            closed = sorted(wave1_codes - wave2_codes)
            for member in members:
                if member.ccg_code in closed and 1 in member.waves:
                    cases.append(Case(member.key, 2, disposition=OUT_OF_SAMPLE))
            truth["closed_ccgs"] = closed
            truth["new_ccgs"] = sorted(wave2_codes - wave1_codes)
        codes = [c.code for c in (wave1_ccgs if number == 1 else wave2_ccgs)]
        result_waves[number] = SimulatedWave(spec, codes, cases)
    return SimulatedFieldwork(seed, members, result_waves, truth)


# --------------------------------------------------------------------------- engine shape


def engine_text(value: object) -> str:
    """An answer as the XForm instance (and the engine) holds it."""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def answer_paths(case: Case, paths: dict[str, str]) -> dict[str, str]:
    """A case's answers keyed by stored item path (``/data/group/name``), as engine text.

    ``paths`` maps each question's name to its path (``runner.item_path``); only questions
    are stored, as the interviewing screens store them.
    """
    return {paths[name]: engine_text(value) for name, value in case.answers.items()}
