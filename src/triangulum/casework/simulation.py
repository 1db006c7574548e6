"""Simulated case-study material for the demo: transcripts, notes and documents.

Pure: from the pilot and in-depth sites and a seed, ``generate`` writes the texts of
scoping interviews (pilot sites) and of in-depth interviews, group interviews, meeting
observations and documents (in-depth sites), the fictitious people who speak in them,
two redesign initiatives per in-depth site, and — for the demo's coders — where in each
text every theme was written (``ThemedSpan``). ``simulate_coder`` then plays a coder who
finds most of those spans, misses some, shifts some boundaries and sometimes picks a
neighbouring theme, so two simulated coders partly disagree.

Every text opens with ``SIMULATED_BANNER``. The people are invented; the CCGs are the real
sites the purposive selection chose, and what is said about them is invented.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

SIMULATED_BANNER = "SIMULATED TRANSCRIPT — not a real interview"


@dataclass(frozen=True)
class Theme:
    key: str
    rq: int
    name: str
    # The built-in framework's code for it ("RQ3 Benefits/Access").
    code_path: str
    sentences: tuple[str, ...]


_R1, _R2, _R3, _R4 = "RQ1 Modes", "RQ2 Scope", "RQ3 Benefits", "RQ4 Enablers and blockers"
_EXISTING, _EMERGING = "Existing or new arrangements", "Emerging themes"


def _theme(key: str, rq: int, code_path: str, *sentences: str) -> Theme:
    return Theme(key, rq, code_path.rsplit("/", 1)[-1], code_path, tuple(sentences))


# Sentences are written for the study's themes (the research questions and the real
# study's qualitative findings) so that the codebook's codes apply to them meaningfully.
# Placeholders: {initiative}, {partner} (a provider), {council}, {colleague} (a named
# colleague).
THEMES: tuple[Theme, ...] = (
    _theme(
        "formal_roles",
        1,
        f"{_R1}/Formal roles",
        "As a GP on the governing body I chair the quality committee, and that seat gives clinicians a formal voice in every commissioning decision.",
        "The governing body has six GP members, a nurse and a hospital doctor, so on paper clinicians are in the majority.",
        "Most of the visible clinical leadership happens through the formal posts on the board.",
    ),
    _theme(
        "clinical_leads",
        1,
        f"{_R1}/Clinical leads for programmes",
        "Each redesign programme has a named GP clinical lead who is paid for two sessions a week to drive it.",
        "{colleague} is our clinical lead for {initiative}; the work would not have moved without that protected time.",
        "We appointed clinical leads for diabetes, respiratory and frailty, and they own the pathways from design through to the contract.",
    ),
    _theme(
        "locality_forums",
        1,
        f"{_R1}/Locality and member-practice forums",
        "The locality meetings are where ordinary GPs are supposed to shape things, but attendance has dropped to a handful of practices.",
        "Grassroots engagement is our weak point: most member practices see the CCG as something done to them rather than something they own.",
        "We hold a members' forum every quarter, and the practices that come are the ones that were engaged under the old practice-based commissioning.",
    ),
    _theme(
        "secondary_care",
        1,
        f"{_R1}/Secondary-care and community clinicians",
        "Bringing the consultants from {partner} into the design group changed the conversation; they saw the pathway from the other end.",
        "Secondary-care clinicians still feel they are consulted late, once the CCG has already decided what it wants.",
        "The community matrons were the people who really knew where the frail patients fell through the gaps.",
    ),
    _theme(
        "ppi",
        1,
        f"{_R1}/Patient and public involvement",
        "Our lay member for patient involvement sat on the design group, and the patient reference panel reviewed every draft of the leaflet.",
        "Patient involvement is still too often a consultation at the end rather than co-design at the start.",
        "The patient participation groups fed in the complaints about repeat appointments, which shaped the new clinic model.",
    ),
    _theme(
        "existing_networks",
        1,
        f"{_EXISTING}/Built on existing clusters and networks",
        "A lot of what we do builds on the old practice clusters; the relationships were already there before the CCG existed.",
        "The clinical network for cardiology predates us, and we have used it rather than creating something new.",
    ),
    _theme(
        "new_arrangements",
        1,
        f"{_EXISTING}/New arrangements and relationships",
        "We created new GP-led locality groups because the old clusters did not map onto the CCG boundary.",
        "The federation of practices is new, and it has become the vehicle for most of the community work.",
    ),
    _theme(
        "collaborative_style",
        1,
        f"{_EMERGING}/Collaborative leadership style",
        "GPs here prefer to lead by bringing people round the table rather than by telling the hospital what to do.",
        "The style is collaborative: we try to agree a shared view with the providers before anything goes near a contract.",
        "I would not call it command and control; it is persuasion, relationships and a lot of cups of tea.",
    ),
    _theme(
        "every_level",
        1,
        f"{_EMERGING}/Leadership at every level",
        "Some of the best leadership came from a practice nurse who had no formal role at all but would not let the idea drop.",
        "Leadership has to happen at every level, from the board down to the receptionist who rings the patient back.",
        "The front-line clinicians who ran the pilot clinics were leaders in their own right, whatever their job titles said.",
    ),
    _theme(
        "alliance",
        1,
        f"{_EMERGING}/Clinician–manager alliance",
        "The clinicians set the direction and the managers made it happen; it is an alliance rather than a hierarchy.",
        "For the first time the managers and the GPs are on the same side of the table.",
    ),
    _theme(
        "hwb_scope",
        2,
        f"{_R2}/Health and Wellbeing Board",
        "The Health and Wellbeing Board gave us a place to agree the frailty strategy with {council}, which we could not have done alone.",
        "The Health and Wellbeing Board is still more of a talking shop than a place where decisions are made.",
        "Through the Health and Wellbeing Board the council's director of adult social care became a real partner in the work.",
    ),
    _theme(
        "social_care",
        2,
        f"{_R2}/Social care and local authority",
        "What the CCG made possible was a joint team across health and social care, with one assessment instead of three.",
        "The scope is limited: we commission hospital and community services, but social care money sits with the council.",
    ),
    _theme(
        "community_services",
        2,
        f"{_R2}/Community services",
        "The CCG gave clinicians licence to reshape the community nursing contract, which the old primary care trust never allowed.",
        "Most of the redesign lands in community services: district nurses, therapists and the intermediate care beds.",
    ),
    _theme(
        "acute_care",
        2,
        f"{_R2}/Acute hospital care",
        "We can change what we buy from the hospital, but we cannot make the consultants change how they work.",
        "The outpatient follow-ups were the obvious target, because the tariff made them expensive and patients found them pointless.",
    ),
    _theme(
        "integration",
        3,
        f"{_R3}/Integration across boundaries",
        "The aim of {initiative} is that an older person has one team around them instead of five services that do not talk.",
        "Integrated care for frail older people was the flagship: community nurses, social workers and GPs in one multidisciplinary meeting.",
        "People with long-term conditions should move between the practice and the hospital without starting again each time.",
    ),
    _theme(
        "quality",
        3,
        f"{_R3}/Quality of care",
        "The benefit we were after first was quality: fewer missed diagnoses and more consistent care between practices.",
        "We measured it by emergency admissions and by how many patients had a care plan they had agreed.",
        "The diabetes pathway cut the variation between practices in how often patients had their feet checked.",
    ),
    _theme(
        "access",
        3,
        f"{_R3}/Access",
        "Patients can now see a specialist nurse in the community within a fortnight instead of waiting for a hospital clinic.",
        "Access in the evenings and at weekends was what the patient panel kept asking for.",
    ),
    _theme(
        "efficiency",
        3,
        f"{_R3}/Efficiency",
        "Of course the finance side wanted to see the savings, and the business case promised fewer bed days.",
        "Moving outpatient follow-ups into the community was meant to save money as well as time.",
    ),
    _theme(
        "patient_experience",
        3,
        f"{_R3}/Patient experience",
        "What patients told us was that they were tired of repeating their story to every new professional.",
        "The families of frail patients said the single point of contact made the biggest difference.",
    ),
    _theme(
        "population_health",
        3,
        f"{_R3}/Population health",
        "We wanted the redesign to reach the deprived wards, where diabetes is diagnosed late.",
        "Prevention was in the plan, but the money and the attention went to the frail and the very ill.",
    ),
    _theme(
        "relationships",
        4,
        f"{_R4}/Relationships and trust",
        "It all comes down to relationships; {colleague} and the hospital's medical director had known each other for years.",
        "Where the relationships were good, the redesign moved in months; where they were not, it stalled.",
        "Trust between the practices and the hospital took two years to build and could be lost in one bad meeting.",
    ),
    _theme(
        "managerial_support",
        4,
        f"{_R4}/Managerial support",
        "Without a good programme manager the clinical lead would have drowned in spreadsheets.",
        "The accountable officer backed the clinicians in public even when the numbers looked shaky.",
    ),
    _theme(
        "clinician_time",
        4,
        f"{_R4}/Clinicians' time",
        "The biggest barrier is time: every session I spend at the CCG is a surgery I am not doing.",
        "GPs are simply too busy to come to evening meetings, however good the sandwiches.",
        "Backfill for the clinical leads ran out halfway through the year, and engagement fell away.",
    ),
    _theme(
        "conflicts_of_interest",
        4,
        f"{_R4}/Conflicts of interest",
        "When the contract might go to a GP federation, the GP members had to leave the room, which left the board short of clinicians.",
        "Conflicts of interest make it hard for GPs to lead the redesign of services their own practices provide.",
    ),
    _theme(
        "national_policy",
        4,
        f"{_R4}/NHS England and national policy",
        "Every few months NHS England changes the priorities, and we have to rewrite the plan.",
        "The policy environment is so uncertain that people are reluctant to commit to anything that takes five years.",
        "The Better Care Fund forced us and the council together, which in the end helped.",
    ),
    _theme(
        "money",
        4,
        f"{_R4}/Money and resources",
        "There is no new money; every pound for the community team has to come out of the hospital's activity.",
        "The deficit meant the frailty service was cut back before it had a chance to show what it could do.",
    ),
    _theme(
        "reorganisation",
        4,
        f"{_R4}/Reorganisation",
        "We were still recovering from the last reorganisation when the talk of mergers started.",
        "Half the managers who knew the history left when the primary care trust was abolished.",
    ),
    _theme(
        "provider_resistance",
        4,
        f"{_R4}/Provider resistance",
        "The hospital was wary: every patient we keep out of the wards is income they lose.",
        "The community provider dragged its feet on the new rota until the contract was renegotiated.",
    ),
    _theme(
        "professional_political",
        4,
        f"{_R4}/Professional and political barriers",
        "Some consultants do not accept that a GP should redesign their service.",
        "The council's politics got in the way when the councillors feared the cuts would be blamed on them.",
    ),
    _theme(
        "market_levers",
        4,
        f"{_R4}/Competition and market levers",
        "We have hardly used competition; going out to tender would have damaged the relationships we depend on.",
        "The threat of procurement was there in the background, but nobody wanted to be the first to use it.",
    ),
    _theme(
        "data_it",
        4,
        f"{_R4}/Data and IT",
        "The community nurses could not see the GP record, so half the joint visits started with a phone call to the surgery.",
        "We never had the data to show whether admissions had really fallen.",
    ),
)
THEMES_BY_KEY = {theme.key: theme for theme in THEMES}

QUESTIONS = {
    1: (
        "How are clinicians involved in the CCG's decisions?",
        "Who leads the redesign work here, formally and informally?",
        "How do the member practices take part?",
    ),
    2: (
        "What room does the CCG give clinicians to redesign services?",
        "How does the Health and Wellbeing Board come into it?",
    ),
    3: (
        "What was the redesign meant to achieve?",
        "What benefits were you hoping for, for patients and for the system?",
    ),
    4: (
        "What helped, and what got in the way?",
        "Why did it work here, do you think, when it stalled elsewhere?",
    ),
}

FILLER = (
    "That is a good question.",
    "I can only speak for our patch.",
    "It varies a lot from one practice to the next.",
    "I should say this is my own view.",
    "We have talked about this a lot at the board.",
)

# Invented names: combinations chosen not to name anyone.
FIRST_NAMES = (
    "Amara",
    "Bryony",
    "Cedric",
    "Delphine",
    "Emrys",
    "Florian",
    "Gwendolen",
    "Hollis",
    "Ines",
    "Jasper",
    "Kesia",
    "Leontyne",
    "Marek",
    "Noor",
    "Orla",
    "Peregrine",
    "Quilla",
    "Rafferty",
    "Saoirse",
    "Tobiah",
    "Ulrika",
    "Vashti",
    "Wystan",
    "Xanthe",
    "Yannick",
    "Zenobia",
)
# Surnames are built from two halves so that each simulated person has their own.
SURNAME_HEADS = (
    "Ash",
    "Brel",
    "Corv",
    "Duns",
    "Elst",
    "Farr",
    "Glen",
    "Hath",
    "Ivel",
    "Jor",
    "Kest",
    "Lorr",
    "Nant",
    "Oxen",
    "Pell",
    "Quorn",
    "Rush",
    "Salt",
    "Thist",
    "Ulver",
    "Vex",
    "Wain",
    "Yarr",
)
SURNAME_TAILS = (
    "wick",
    "ington",
    "vane",
    "mere",
    "row",
    "by",
    "garrow",
    "sage",
    "dale",
    "leigh",
    "more",
    "hope",
    "ham",
    "brooke",
    "stall",
    "wood",
    "borough",
    "scott",
    "field",
)

INTERVIEW_ROLES = (
    # (role category, job title, title, label in group interviews)
    ("gp_member", "GP governing-body member", "Dr"),
    ("chair", "Clinical chair", "Dr"),
    ("accountable_officer", "Accountable officer", "Ms"),
    ("manager", "Head of commissioning", "Mr"),
    ("secondary_care_doctor", "Secondary-care doctor on the governing body", "Dr"),
    ("la_officer", "Director of adult social care", "Ms"),
    ("hwb_member", "Health and Wellbeing Board member", "Cllr"),
    ("patient_representative", "Patient representative", "Mrs"),
)
SCOPING_ROLES = ("chair", "accountable_officer")
IN_DEPTH_ROLES = tuple(role for role, _, _ in INTERVIEW_ROLES) + ("gp_member", "gp_member")
GROUP_ROLES = ("gp_member", "gp_member", "gp_member", "manager")

INITIATIVE_TEMPLATES = (
    {
        "name": "Integrated care for frail older people",
        "description": "Multidisciplinary teams around groups of practices: GPs, community matrons, social workers and a geriatrician, with one assessment and a shared care plan.",
        "sectors": ["primary care", "community services", "acute hospital care", "social care"],
        "benefits": [
            "integration across boundaries",
            "fewer emergency admissions",
            "patient experience",
        ],
        "themes": ("integration", "patient_experience", "social_care"),
    },
    {
        "name": "Long-term conditions pathway (diabetes)",
        "description": "Specialist diabetes care moved from hospital clinics into the community, with practice-based reviews and a community consultant.",
        "sectors": ["primary care", "community services", "acute hospital care"],
        "benefits": ["quality", "access", "efficiency"],
        "themes": ("quality", "access", "efficiency"),
    },
    {
        "name": "Respiratory (COPD) community service",
        "description": "Early supported discharge and home-based pulmonary rehabilitation for people with chronic obstructive pulmonary disease.",
        "sectors": ["primary care", "community services", "acute hospital care"],
        "benefits": ["fewer emergency admissions", "patient experience"],
        "themes": ("quality", "patient_experience"),
    },
    {
        "name": "Urgent care redesign",
        "description": "A GP-led urgent care centre beside the emergency department and a single number for same-day appointments.",
        "sectors": ["primary care", "acute hospital care"],
        "benefits": ["access", "efficiency"],
        "themes": ("access", "efficiency"),
    },
)
STATUSES = ("under_way", "implemented", "stalled", "under_way", "planned")


@dataclass(frozen=True)
class Site:
    key: object
    name: str  # as recorded, e.g. "NHS Ashford CCG"
    # The local authority its people talk about ("Kent"); the CCG's own place name if empty.
    council_area: str = ""

    @property
    def short_name(self) -> str:
        name = self.name
        if name.startswith("NHS "):
            name = name[4:]
        if name.endswith(" CCG"):
            name = name[:-4]
        return name


@dataclass(frozen=True)
class Person:
    key: str
    site_key: object
    role_category: str
    full_name: str  # carries "(simulated)"
    title: str
    job_title: str

    @property
    def surname(self) -> str:
        return self.full_name.split(" (")[0].split(" ")[-1]

    @property
    def addressed_as(self) -> str:
        return f"{self.title} {self.surname}"


@dataclass(frozen=True)
class ThemedSpan:
    start: int
    end: int
    theme: str


@dataclass(frozen=True)
class Identifier:
    """A name or number written into a text on purpose, for the pseudonymisation scan."""

    start: int
    end: int
    kind: str
    text: str


@dataclass(frozen=True)
class Initiative:
    key: str
    site_key: object
    name: str
    description: str
    sectors: tuple[str, ...]
    benefits: tuple[str, ...]
    status: str
    start_date: dt.date
    partners: tuple[str, ...]  # named providers (invented trusts and services)
    leader_keys: tuple[str, ...]


@dataclass(frozen=True)
class SimulatedSource:
    key: str
    title: str
    kind: str  # casework Source.Kind values
    phase: str  # "pilot" or "in_depth"
    site_key: object
    text: str
    # speaker label → person key (interviewers and facilitators map to None)
    speakers: dict[str, str | None]
    spans: tuple[ThemedSpan, ...]
    identifiers: tuple[Identifier, ...]
    initiative_keys: tuple[str, ...] = ()


@dataclass
class SimulatedStudy:
    people: list[Person] = field(default_factory=list)
    sources: list[SimulatedSource] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)


class _Writer:
    """Builds one text and records where each theme and identifier went."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[ThemedSpan] = []
        self.identifiers: list[Identifier] = []

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def themed(self, text: str, theme: str) -> None:
        start = self.length
        self.write(text)
        self.spans.append(ThemedSpan(start, self.length, theme))

    def identifier(self, text: str, kind: str) -> None:
        start = self.length
        self.write(text)
        self.identifiers.append(Identifier(start, self.length, kind, text))

    def text(self) -> str:
        return "".join(self.parts)


def _fill(sentence: str, context: dict[str, str]) -> list[tuple[str, str | None]]:
    """Split a sentence at its placeholders: [(piece, identifier kind or None)]."""
    pieces: list[tuple[str, str | None]] = []
    rest = sentence
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        pieces.append((before, None))
        kind = {"colleague": "participant", "partner": "organisation", "council": "organisation"}
        pieces.append((context[name], kind.get(name)))
    pieces.append((rest, None))
    return [(text, kind) for text, kind in pieces if text]


def _write_themed_sentence(w: _Writer, sentence: str, theme: str, context: dict) -> None:
    start = w.length
    for piece, kind in _fill(sentence, context):
        if kind:
            w.identifier(piece, kind)
        else:
            w.write(piece)
    w.spans.append(ThemedSpan(start, w.length, theme))


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.study = SimulatedStudy()
        self._surnames_left = sorted(h + t.lower() for h in SURNAME_HEADS for t in SURNAME_TAILS)
        self._phone = 960200

    def person(self, site: Site, role: str) -> Person:
        job_title, title = next((j, t) for r, j, t in INTERVIEW_ROLES if r == role)
        first = self.rng.choice(FIRST_NAMES)
        last = self.rng.choice(self._surnames_left)
        self._surnames_left.remove(last)
        person = Person(
            key=f"person-{len(self.study.people) + 1}",
            site_key=site.key,
            role_category=role,
            full_name=f"{title} {first} {last} (simulated)",
            title=title,
            job_title=job_title,
        )
        self.study.people.append(person)
        return person

    def context(self, site: Site, colleague: Person | None, initiative: str) -> dict[str, str]:
        return {
            "site": site.short_name,
            "initiative": initiative,
            "partner": f"{site.short_name} Hospitals NHS Foundation Trust",
            "council": f"{site.council_area or site.short_name} Council",
            "colleague": colleague.addressed_as if colleague else "the clinical lead",
        }

    def answer(self, w: _Writer, themes: list[str], ctx: dict) -> None:
        if self.rng.random() < 0.35:
            w.write(self.rng.choice(FILLER) + " ")
        for i, key in enumerate(themes):
            theme = THEMES_BY_KEY[key]
            sentence = self.rng.choice(theme.sentences)
            if i:
                w.write(" ")
            _write_themed_sentence(w, sentence, key, ctx)

    def themes_for(self, rq: int, k: int, favour: tuple[str, ...] = ()) -> list[str]:
        pool = [t.key for t in THEMES if t.rq == rq]
        chosen = self.rng.sample(pool, min(k, len(pool)))
        for key in favour:
            if THEMES_BY_KEY[key].rq == rq and key not in chosen and self.rng.random() < 0.6:
                chosen[-1] = key
        return chosen

    def header(self, w: _Writer, lines: list[str]) -> None:
        w.write(SIMULATED_BANNER + "\n")
        for line in lines:
            w.write(line + "\n")
        w.write("\n")

    def interview(
        self,
        site: Site,
        person: Person,
        phase: str,
        number: int,
        colleagues: list[Person],
        initiatives: list[Initiative],
    ) -> SimulatedSource:
        w = _Writer()
        label = "Scoping interview" if phase == "pilot" else "Interview"
        date = dt.date(2014 if phase == "pilot" else 2015, 1 + number % 12, 1 + number % 27)
        self.header(
            w,
            [
                f"{label} with a {_phrase(person.job_title)}, {site.name}.",
                f"Recorded {date.isoformat()}. Names are as spoken; pseudonymise before sharing.",
            ],
        )
        w.write("Interviewer: Thank you for talking to us. Could you say what your role is?\n\n")
        w.write("R: I'm ")
        w.identifier(person.addressed_as, "participant")
        w.write(f", {_phrase(person.job_title)} at ")
        w.identifier(site.name, "organisation")
        w.write(". I have been in post since the CCG was set up.\n\n")
        favour = tuple(key for i in initiatives for key in _template_of(i)["themes"])
        rqs = (1, 2, 3, 4) if phase == "in_depth" else (1, 3, 4)
        for rq in rqs:
            for question in self.rng.sample(QUESTIONS[rq], min(len(QUESTIONS[rq]), 2)):
                w.write(f"Interviewer: {question}\n\n")
                w.write("R: ")
                colleague = self.rng.choice(colleagues) if colleagues else None
                initiative = initiatives[0].name.lower() if initiatives else "the frailty work"
                ctx = self.context(site, colleague, initiative)
                self.answer(w, self.themes_for(rq, self.rng.choice((1, 2)), favour), ctx)
                w.write("\n\n")
        if self.rng.random() < 0.5:
            w.write("Interviewer: Can we follow up by e-mail?\n\nR: Yes, it's ")
            email = f"{person.surname.lower()}@example.org"
            w.identifier(email, "email")
            w.write(", or ring me on ")
            w.identifier(self.phone(), "phone")
            w.write(".\n")
        title = f"{label} — {site.short_name} — {person.job_title} (simulated)"
        return SimulatedSource(
            key=f"source-{len(self.study.sources) + 1}",
            title=title,
            kind="interview",
            phase=phase,
            site_key=site.key,
            text=w.text(),
            speakers={"Interviewer": None, "R": person.key},
            spans=tuple(w.spans),
            identifiers=tuple(w.identifiers),
            initiative_keys=tuple(i.key for i in initiatives),
        )

    def phone(self) -> str:
        # Ofcom's numbers reserved for drama: 01632 960000–960999.
        self._phone += 1
        return f"01632 {self._phone}"

    def group_interview(self, site: Site, members: list[Person], initiative: Initiative):
        w = _Writer()
        self.header(
            w,
            [
                f"Group interview with GP members and a manager, {site.name}, about {initiative.name.lower()}.",
                "Facilitated by two researchers; participants are numbered R1 to R4.",
            ],
        )
        speakers: dict[str, str | None] = {"Facilitator": None}
        for i, member in enumerate(members, start=1):
            speakers[f"R{i}"] = member.key
        w.write("Facilitator: Could each of you say briefly who you are?\n\n")
        for i, member in enumerate(members, start=1):
            w.write(f"R{i}: ")
            w.identifier(member.addressed_as, "participant")
            w.write(f", {_phrase(member.job_title)}.\n\n")
        for rq in (1, 2, 3, 4):
            w.write(f"Facilitator: {self.rng.choice(QUESTIONS[rq])}\n\n")
            for i in self.rng.sample(range(1, len(members) + 1), 2):
                w.write(f"R{i}: ")
                ctx = self.context(site, self.rng.choice(members), initiative.name.lower())
                self.answer(w, self.themes_for(rq, 1, _template_of(initiative)["themes"]), ctx)
                w.write("\n\n")
        return SimulatedSource(
            key=f"source-{len(self.study.sources) + 1}",
            title=f"Group interview — {site.short_name} — {initiative.name} (simulated)",
            kind="group_interview",
            phase="in_depth",
            site_key=site.key,
            text=w.text(),
            speakers=speakers,
            spans=tuple(w.spans),
            identifiers=tuple(w.identifiers),
            initiative_keys=(initiative.key,),
        )

    def observation(self, site: Site, people: list[Person], initiative: Initiative):
        w = _Writer()
        self.header(
            w,
            [
                f"Observation notes: governing body meeting in public, {site.name}.",
                "Notes by the observing researcher; speakers by role.",
            ],
        )
        w.write(
            "Observer: The meeting opened with apologies. Around twenty members of the public attended.\n\n"
        )
        for person in people[:4]:
            w.write("Observer: ")
            w.identifier(person.addressed_as, "participant")
            w.write(" spoke to the paper on ")
            w.write(initiative.name.lower())
            w.write(". ")
            rq = self.rng.choice((1, 2, 4))
            ctx = self.context(site, self.rng.choice(people), initiative.name.lower())
            self.answer(w, self.themes_for(rq, 1, _template_of(initiative)["themes"]), ctx)
            w.write("\n\n")
        w.write(
            "Observer: The board approved the next stage, with the finance officer's reservations minuted.\n"
        )
        return SimulatedSource(
            key=f"source-{len(self.study.sources) + 1}",
            title=f"Meeting observation — {site.short_name} governing body (simulated)",
            kind="observation_notes",
            phase="in_depth",
            site_key=site.key,
            text=w.text(),
            speakers={"Observer": None},
            spans=tuple(w.spans),
            identifiers=tuple(w.identifiers),
            initiative_keys=(initiative.key,),
        )

    def document(self, site: Site, initiative: Initiative, leader: Person):
        w = _Writer()
        self.header(
            w,
            [
                f"Document: business case for {initiative.name.lower()}, {site.name}.",
                "SIMULATED DOCUMENT — invented for the demo.",
            ],
        )
        w.write(initiative.description + "\n\n")
        ctx = self.context(site, leader, initiative.name.lower())
        for key in _template_of(initiative)["themes"]:
            _write_themed_sentence(w, self.rng.choice(THEMES_BY_KEY[key].sentences), key, ctx)
            w.write("\n\n")
        w.write("Clinical lead: ")
        w.identifier(leader.addressed_as, "participant")
        w.write(". Contact: ")
        w.identifier(f"{leader.surname.lower()}@example.org", "email")
        w.write(", ")
        w.identifier(self.phone(), "phone")
        w.write(". Office: ")
        w.identifier(self.rng.choice(("LS1 4AP", "M1 1AE", "B1 1BB", "NE1 4XF")), "postcode")
        w.write(".\n")
        return SimulatedSource(
            key=f"source-{len(self.study.sources) + 1}",
            title=f"Document — {site.short_name} — business case, {initiative.name} (simulated)",
            kind="document",
            phase="in_depth",
            site_key=site.key,
            text=w.text(),
            speakers={},
            spans=tuple(w.spans),
            identifiers=tuple(w.identifiers),
            initiative_keys=(initiative.key,),
        )


def _phrase(title: str) -> str:
    """A job title inside a sentence: "Clinical chair" → "clinical chair", "GP …" kept."""
    return title if title[:2].isupper() else title[0].lower() + title[1:]


def _template_of(initiative: Initiative) -> dict:
    return next(t for t in INITIATIVE_TEMPLATES if t["name"] == initiative.name)


def generate(pilot_sites: list[Site], in_depth_sites: list[Site], *, seed: int) -> SimulatedStudy:
    """Simulated material: two scoping interviews per pilot site, and for each in-depth
    site ten interviews, a group interview, a meeting observation and a document."""
    g = _Generator(seed)
    for number, site in enumerate(pilot_sites):
        people = [g.person(site, role) for role in SCOPING_ROLES]
        for person in people:
            others = [p for p in people if p is not person]
            g.study.sources.append(g.interview(site, person, "pilot", number, others, []))
    for number, site in enumerate(in_depth_sites):
        people = [g.person(site, role) for role in IN_DEPTH_ROLES]
        group = [g.person(site, role) for role in GROUP_ROLES]
        templates = g.rng.sample(INITIATIVE_TEMPLATES[1:], 1)
        initiatives = []
        for i, template in enumerate((INITIATIVE_TEMPLATES[0], *templates)):
            leaders = [p for p in people if p.role_category in ("gp_member", "chair")][i : i + 1]
            leaders += [p for p in people if p.role_category == "manager"][:1]
            initiatives.append(
                Initiative(
                    key=f"initiative-{len(g.study.initiatives) + len(initiatives) + 1}",
                    site_key=site.key,
                    name=template["name"],
                    description=template["description"] + " (Simulated.)",
                    sectors=tuple(template["sectors"]),
                    benefits=tuple(template["benefits"]),
                    status=g.rng.choice(STATUSES),
                    start_date=dt.date(2013 + g.rng.randrange(2), 1 + g.rng.randrange(12), 1),
                    partners=(
                        f"{site.short_name} Hospitals NHS Foundation Trust",
                        f"{site.short_name} Community Health Services",
                    ),
                    leader_keys=tuple(p.key for p in leaders),
                )
            )
        g.study.initiatives.extend(initiatives)
        for k, person in enumerate(people):
            others = [p for p in people if p is not person]
            focus = [initiatives[k % 2]]
            g.study.sources.append(g.interview(site, person, "in_depth", number + k, others, focus))
        g.study.sources.append(g.group_interview(site, group, initiatives[0]))
        g.study.sources.append(g.observation(site, people, initiatives[1]))
        leader = next(p for p in people if p.key == initiatives[0].leader_keys[0])
        g.study.sources.append(g.document(site, initiatives[0], leader))
    return g.study


# --- simulated coders ------------------------------------------------------------------


@dataclass(frozen=True)
class CoderProfile:
    """How a simulated coder codes: how often a theme is coded, how often its boundaries
    drift, and how often a neighbouring theme of the same RQ is chosen instead."""

    recall: float = 0.85
    boundary_drift: float = 0.2
    confusion: float = 0.1


def simulate_coder(
    text: str, spans: tuple[ThemedSpan, ...], profile: CoderProfile, rng: random.Random
) -> list[ThemedSpan]:
    """The codings a simulated coder makes on one text."""
    codings: list[ThemedSpan] = []
    for span in spans:
        if rng.random() > profile.recall:
            continue
        start, end = span.start, span.end
        if rng.random() < profile.boundary_drift:
            # Drift to a word boundary a few words in, or out to the line's end.
            if rng.random() < 0.5:
                cut = text.find(" ", start + 1, end)
                for _ in range(rng.randrange(1, 4)):
                    if cut == -1:
                        break
                    start, cut = cut + 1, text.find(" ", cut + 1, end)
            else:
                line_end = text.find("\n", end)
                end = line_end if line_end != -1 else len(text)
        theme = span.theme
        if rng.random() < profile.confusion:
            siblings = [t.key for t in THEMES if t.rq == THEMES_BY_KEY[theme].rq and t.key != theme]
            theme = rng.choice(siblings)
        if end > start:
            codings.append(ThemedSpan(start, end, theme))
    return codings
