"""Read the packaged NHS reference files into plain records (no Django here).

The files in ``data/`` (see its README for what each holds and who published it) give
every CCG that existed between April 2013 and June 2022, the ICBs and sub-ICB locations
that replaced them on 1 July 2022, the upper-tier local authorities that host Health and
Wellbeing Boards, and the GP practices of 2013. ``load_nhs_data`` turns them into
``OrganisationRecord``, ``SuccessionRecord`` and ``AreaLinkRecord`` values; anything
inconsistent raises ``NhsDataError`` naming the file, row and column.

An organisation is keyed by ``(org_type, code)``: the same ODS code names a CCG until
30 June 2022 and a sub-ICB location from 1 July 2022. Health and Wellbeing Boards are
keyed by their local authority's ONS code (our files carry no ODS code for them).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

CCG, ICB, SUB_ICB, HWB, PRACTICE = "ccg", "icb", "sub_icb", "hwb", "practice"
ORG_TYPES = (CCG, ICB, SUB_ICB, HWB, PRACTICE)

MERGED_INTO, REPLACED_BY, CONTINUED_AS = "merged_into", "replaced_by", "continued_as"

# CCGs were abolished by the Health and Care Act 2022; ICBs took over the next day.
CCG_LAST_DAY = date(2022, 6, 30)
ICB_FIRST_DAY = date(2022, 7, 1)
# Health and Wellbeing Boards became statutory on the same day as CCGs.
HWB_FIRST_DAY = date(2013, 4, 1)

# NHS England's seven regions from April 2020 (ODS codes). The 2013 files name their
# own four regions (Y54–Y57), so only these need spelling out.
NHS_ENGLAND_REGIONS_2020 = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}

OrgKey = tuple[str, str]


class NhsDataError(ValueError):
    """A packaged file does not say what the loader expects; the message says where."""


@dataclass(frozen=True)
class OrganisationRecord:
    org_type: str
    code: str
    name: str
    ons_code: str = ""
    # None means open since before, or still open after, the records we hold.
    open_date: date | None = None
    close_date: date | None = None
    region_code: str = ""
    region_name: str = ""
    area_team_code: str = ""
    area_team_name: str = ""
    registered_patients: int | None = None
    practices: int | None = None
    allocation_000s: int | None = None
    parent: OrgKey | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> OrgKey:
        return (self.org_type, self.code)

    def is_open_on(self, on: date) -> bool:
        return (self.open_date is None or self.open_date <= on) and (
            self.close_date is None or on <= self.close_date
        )


@dataclass(frozen=True)
class SuccessionRecord:
    predecessor: OrgKey
    successor: OrgKey
    kind: str
    effective_date: date
    # Share of the predecessor's small areas (LSOAs) that went to the successor, if known.
    share: float | None = None


@dataclass(frozen=True)
class AreaLinkRecord:
    commissioner: OrgKey
    hwb: OrgKey
    share_of_commissioner: float | None
    share_of_hwb: float | None


@dataclass
class NhsData:
    organisations: list[OrganisationRecord]
    successions: list[SuccessionRecord]
    area_links: list[AreaLinkRecord]

    def by_key(self) -> dict[OrgKey, OrganisationRecord]:
        return {org.key: org for org in self.organisations}

    def of_type(self, org_type: str) -> list[OrganisationRecord]:
        return [org for org in self.organisations if org.org_type == org_type]


# --- reading cells -------------------------------------------------------------------


class _Row:
    """One CSV row that knows where it came from, so every error can say so."""

    def __init__(self, file_name: str, line: int, values: dict[str, str]):
        self.file_name = file_name
        self.line = line
        self.values = values

    def where(self, column: str | None = None) -> str:
        place = f"{self.file_name}, row {self.line}"
        return f"{place}, column {column}" if column else place

    def error(self, column: str | None, problem: str) -> NhsDataError:
        return NhsDataError(f"{self.where(column)}: {problem}")

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise self.error(column, "is empty")
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if not re.fullmatch(r"\d{8}", value):
            raise self.error(column, f"{value!r} is not a date in the form YYYYMMDD")
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise self.error(column, f"{value!r} is not a real date") from None

    def integer(self, column: str, *, required: bool = False) -> int | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            raise self.error(column, f"{value!r} is not a whole number") from None
        if number < 0:
            raise self.error(column, f"{value!r} is negative")
        return number

    def share(self, column: str) -> float | None:
        value = self.text(column, required=False)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, f"{value!r} is not a number") from None
        if not 0.0 <= number <= 1.0:
            raise self.error(column, f"{value!r} is not a share between 0 and 1")
        return number

    def flag(self, column: str) -> bool:
        value = self.text(column)
        if value not in {"0", "1"}:
            raise self.error(column, f"{value!r} is not 0 or 1")
        return value == "1"


def _read(data_dir: Path, file_name: str, columns: list[str]) -> list[_Row]:
    path = data_dir / file_name
    if not path.exists():
        raise NhsDataError(f"{path}: file is missing")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise NhsDataError(f"{file_name}: missing column(s) {', '.join(missing)}")
        # Row numbers count the header as row 1, as a spreadsheet shows them.
        return [_Row(file_name, line, values) for line, values in enumerate(reader, start=2)]


_KEEP_UPPER = {"NHS", "CCG", "ICB", "GP", "STP", "UK"}
_KEEP_LOWER = {"and", "of", "upon", "on", "the", "in", "with", "under", "by", "at", "for"}


def title_case(text: str) -> str:
    """Title-case an ODS upper-case name, keeping NHS/CCG/ICB upper and small words lower."""
    first = True

    def fix(match: re.Match[str]) -> str:
        nonlocal first
        word = match.group(0)
        at_start, first = first, False
        if word.upper() in _KEEP_UPPER:
            return word.upper()
        if not at_start and word.lower() in _KEEP_LOWER:
            return word.lower()
        # A possessive "'S" stays lower: "ST MARY'S" → "St Mary's".
        if word.upper() == "S" and match.start() > 0 and text[match.start() - 1] == "'":
            return "s"
        return word[:1].upper() + word[1:].lower()

    return re.sub(r"[A-Za-z]+", fix, text)


def short_icb_name(full_name: str) -> str:
    """'NHS Frimley Integrated Care Board' → 'NHS Frimley ICB', as CCGs are '… CCG'."""
    suffix = " Integrated Care Board"
    return full_name[: -len(suffix)] + " ICB" if full_name.endswith(suffix) else full_name


# --- the organisations ---------------------------------------------------------------

FRAME_2013 = "ccg_2013_frame.csv"
MEMBERSHIP = "ccg_membership_by_date.csv"
CCG21_TO_ICB22 = "ccg21_to_icb22.csv"
ICB_2022 = "icb_2022.csv"
HWB_2013 = "hwb_upper_tier_las_2013.csv"
CCG15_TO_UTLA = "ccg15_to_upper_tier_la.csv"
PRACTICES_2013 = "gp_practices_2013q1.csv"

# The membership file's 0/1 columns and the day each describes.
MEMBERSHIP_FLAGS = {
    "open_20130401": date(2013, 4, 1),
    "open_20150401": date(2015, 4, 1),
    "open_20170401": date(2017, 4, 1),
    "open_20180401": date(2018, 4, 1),
    "open_20190401": date(2019, 4, 1),
    "open_20200401": date(2020, 4, 1),
    "open_20210401": date(2021, 4, 1),
    "open_20220701": date(2022, 7, 1),
}


def read_membership_flags(data_dir: Path = DATA_DIR) -> dict[date, set[str]]:
    """The CCG codes the membership file flags as open on each of its dates."""
    rows = _read(data_dir, MEMBERSHIP, ["ods_code", *MEMBERSHIP_FLAGS])
    return {
        day: {row.text("ods_code") for row in rows if row.flag(column)}
        for column, day in MEMBERSHIP_FLAGS.items()
    }


def _unique(rows: list[_Row], column: str) -> dict[str, _Row]:
    seen: dict[str, _Row] = {}
    for row in rows:
        code = row.text(column)
        if code in seen:
            raise row.error(column, f"{code!r} repeats row {seen[code].line}")
        seen[code] = row
    return seen


def _region_2020(row: _Row, column: str) -> tuple[str, str]:
    code = row.text(column)
    if code not in NHS_ENGLAND_REGIONS_2020:
        raise row.error(column, f"{code!r} is not one of NHS England's regions of 2020")
    return code, NHS_ENGLAND_REGIONS_2020[code]


def _ccgs(data_dir: Path) -> tuple[list[OrganisationRecord], dict[str, _Row], dict[str, _Row]]:
    frame = _unique(
        _read(
            data_dir,
            FRAME_2013,
            [
                "CCG13CDH", "CCG13CD", "CCG13NM", "ODS_NAME", "NHSAT13CD", "NHSAT13NM",
                "NHSCR13CD", "NHSCR13NM", "NHSE_AT_ODS_2013", "NHSE_AT_NAME_2013",
                "NHSE_REGION_ODS_2013", "NHSE_REGION_NAME_2013", "n_practices_listsize_2013Q1",
                "registered_patients_2013Q1", "qof_list_size_2013_14", "ODS_OPEN", "ODS_CLOSE",
                "CCG21CDH", "share_lsoas_in_CCG21", "allocation_2013_14_000s_goodair",
            ],
        ),
        "CCG13CDH",
    )  # fmt: skip
    membership = _unique(
        _read(
            data_dir,
            MEMBERSHIP,
            ["ods_code", "ods_name_current_file", "open_date", "close_date", "region_ods_current"],
        ),
        "ods_code",
    )
    ccg21 = _unique(
        _read(data_dir, CCG21_TO_ICB22, ["CCG21CDH", "CCG21CD", "CCG21NM", "NHSER_ODS"]),
        "CCG21CDH",
    )
    for code, row in [*frame.items(), *ccg21.items()]:
        if code not in membership:
            raise row.error(None, f"CCG {code} is not in {MEMBERSHIP}")

    ccgs = []
    for code, row in membership.items():
        open_date = row.date("open_date", required=True)
        close_date = row.date("close_date") or CCG_LAST_DAY
        if close_date > CCG_LAST_DAY:
            raise row.error("close_date", f"CCG {code} closes after CCGs were abolished")
        if close_date < open_date:
            raise row.error("close_date", f"CCG {code} closes before it opens")
        region_2020_code, region_2020_name = _region_2020(row, "region_ods_current")
        attributes: dict[str, Any] = {
            "region_2020_code": region_2020_code,
            "region_2020_name": region_2020_name,
        }
        fields: dict[str, Any] = {}
        if code in frame:
            f = frame[code]
            if (f.date("ODS_OPEN"), f.date("ODS_CLOSE") or CCG_LAST_DAY) != (open_date, close_date):
                raise f.error(
                    "ODS_OPEN", f"CCG {code}'s dates differ from {MEMBERSHIP} row {row.line}"
                )
            fields = {
                "name": f.text("CCG13NM") + " CCG",
                "ons_code": f.text("CCG13CD"),
                "region_code": f.text("NHSE_REGION_ODS_2013"),
                "region_name": title_case(f.text("NHSE_REGION_NAME_2013")),
                "area_team_code": f.text("NHSE_AT_ODS_2013"),
                "area_team_name": title_case(f.text("NHSE_AT_NAME_2013")),
                "registered_patients": f.integer("registered_patients_2013Q1"),
                "practices": f.integer("n_practices_listsize_2013Q1"),
                "allocation_000s": f.integer("allocation_2013_14_000s_goodair"),
            }
            attributes.update(
                qof_list_size_2013_14=f.integer("qof_list_size_2013_14"),
                ons_area_team_2013_code=f.text("NHSAT13CD"),
                ons_area_team_2013_name=f.text("NHSAT13NM"),
                ons_commissioning_region_2013_code=f.text("NHSCR13CD"),
                ons_commissioning_region_2013_name=f.text("NHSCR13NM"),
            )
            if code in ccg21 and ccg21[code].text("CCG21NM") != fields["name"]:
                attributes["name_2021"] = ccg21[code].text("CCG21NM")
        elif code in ccg21:
            fields = {
                "name": ccg21[code].text("CCG21NM"),
                "ons_code": ccg21[code].text("CCG21CD"),
                "region_code": region_2020_code,
                "region_name": region_2020_name,
            }
        else:
            fields = {
                "name": title_case(row.text("ods_name_current_file")),
                "region_code": region_2020_code,
                "region_name": region_2020_name,
            }
        ccgs.append(
            OrganisationRecord(
                org_type=CCG,
                code=code,
                open_date=open_date,
                close_date=close_date,
                attributes=attributes,
                **fields,
            )
        )
    return ccgs, frame, ccg21


def _icbs_and_sub_icbs(
    data_dir: Path, ccg21: dict[str, _Row]
) -> tuple[list[OrganisationRecord], list[OrganisationRecord]]:
    icb_rows = _unique(
        _read(
            data_dir,
            ICB_2022,
            ["ICB22CD", "ICB22CDH", "ICB22NM", "NHSER_ODS", "n_sub_icb_locations_2022"],
        ),
        "ICB22CDH",
    )
    sub_icb_counts = Counter()
    sub_icbs = []
    for code, row in ccg21.items():
        icb_code = row.text("ICB22CDH")
        if icb_code not in icb_rows:
            raise row.error("ICB22CDH", f"ICB {icb_code!r} is not in {ICB_2022}")
        sub_icb_counts[icb_code] += 1
        region_code, region_name = _region_2020(row, "NHSER_ODS")
        sub_icbs.append(
            OrganisationRecord(
                org_type=SUB_ICB,
                code=code,
                # ONS kept the CCG's E38 code for the sub-ICB location.
                ons_code=row.text("CCG21CD"),
                name=title_case(row.text("ODS_current_name")),
                open_date=ICB_FIRST_DAY,
                region_code=region_code,
                region_name=region_name,
                parent=(ICB, icb_code),
                attributes={"ccg_name": row.text("CCG21NM")},
            )
        )
    icbs = []
    for code, row in icb_rows.items():
        expected = row.integer("n_sub_icb_locations_2022", required=True)
        if sub_icb_counts[code] != expected:
            raise row.error(
                "n_sub_icb_locations_2022",
                f"ICB {code} should have {expected} sub-ICB locations but {CCG21_TO_ICB22} "
                f"gives {sub_icb_counts[code]}",
            )
        region_code, region_name = _region_2020(row, "NHSER_ODS")
        full_name = row.text("ICB22NM")
        icbs.append(
            OrganisationRecord(
                org_type=ICB,
                code=code,
                ons_code=row.text("ICB22CD"),
                name=short_icb_name(full_name),
                open_date=ICB_FIRST_DAY,
                region_code=region_code,
                region_name=region_name,
                attributes={"full_name": full_name, "sub_icb_locations": expected},
            )
        )
    return icbs, sub_icbs


def _hwbs(data_dir: Path) -> list[OrganisationRecord]:
    rows = _unique(_read(data_dir, HWB_2013, ["UTLA_CD_2017", "UTLA_NM", "type"]), "UTLA_CD_2017")
    return [
        OrganisationRecord(
            org_type=HWB,
            code=code,
            ons_code=code,
            name=row.text("UTLA_NM"),
            open_date=HWB_FIRST_DAY,
            attributes={"la_type": row.text("type")},
        )
        for code, row in rows.items()
    ]


def _practices(data_dir: Path, ccg_codes_2013: set[str]) -> list[OrganisationRecord]:
    rows = _unique(
        _read(
            data_dir,
            PRACTICES_2013,
            [
                "practice_code", "practice_name", "ccg_ods_code", "area_team_ods_code",
                "area_team_name", "region_ods_code", "region_name", "registered_patients",
            ],
        ),
        "practice_code",
    )  # fmt: skip
    practices = []
    for code, row in rows.items():
        ccg_code = row.text("ccg_ods_code")
        if ccg_code not in ccg_codes_2013:
            raise row.error("ccg_ods_code", f"{ccg_code!r} is not a CCG of April 2013")
        practices.append(
            OrganisationRecord(
                org_type=PRACTICE,
                code=code,
                # Kept as ODS publishes it: title-casing practice names mangles too many
                # of them (initials, "McX", abbreviations).
                name=row.text("practice_name"),
                region_code=row.text("region_ods_code"),
                region_name=title_case(row.text("region_name")),
                area_team_code=row.text("area_team_ods_code"),
                area_team_name=title_case(row.text("area_team_name")),
                registered_patients=row.integer("registered_patients", required=True),
                parent=(CCG, ccg_code),
            )
        )
    return practices


# --- successions ---------------------------------------------------------------------


def _successions(
    ccgs: list[OrganisationRecord], frame: dict[str, _Row], ccg21: dict[str, _Row]
) -> list[SuccessionRecord]:
    by_code = {ccg.code: ccg for ccg in ccgs}
    found: dict[tuple[str, str], SuccessionRecord] = {}

    def add(predecessor: OrganisationRecord, successor: OrganisationRecord, share: float | None):
        pair = (predecessor.code, successor.code)
        if pair not in found:
            found[pair] = SuccessionRecord(
                predecessor=predecessor.key,
                successor=successor.key,
                kind=MERGED_INTO,
                # A merger takes effect the day after the predecessor's last day, even
                # where the successor was set up earlier (13T opened in November 2014,
                # while its three predecessors ran until 31 March 2015).
                effective_date=predecessor.close_date + timedelta(days=1),
                share=share,
            )

    for code, row in frame.items():
        ccg = by_code[code]
        successor_code = row.text("CCG21CDH")
        if ccg.close_date == CCG_LAST_DAY:
            if successor_code != code:
                raise row.error(
                    "CCG21CDH",
                    f"CCG {code} was still open in 2021 but names {successor_code} as its successor",
                )
            continue
        if successor_code not in by_code or successor_code not in ccg21:
            raise row.error("CCG21CDH", f"{successor_code!r} is not a CCG of April 2021")
        successor = by_code[successor_code]
        share = row.share("share_lsoas_in_CCG21")
        next_day = ccg.close_date + timedelta(days=1)
        if successor.open_date <= next_day:
            add(ccg, successor, share)
            continue
        # The 2021 successor opened later: an intermediate CCG must bridge the gap.
        bridges = [
            other
            for other in ccgs
            if other.open_date == next_day
            and other.close_date == successor.open_date - timedelta(days=1)
        ]
        if len(bridges) != 1:
            names = ", ".join(b.code for b in bridges) or "none"
            raise row.error(
                "CCG21CDH",
                f"CCG {code} closed {ccg.close_date} and its 2021 successor {successor_code} "
                f"opened {successor.open_date}; expected exactly one CCG in between, found {names}",
            )
        # The LSOA share describes the path to the 2021 successor, not each step of it.
        add(ccg, bridges[0], None)
        add(bridges[0], successor, None)

    successions = list(found.values())
    with_successor = {s.predecessor[1] for s in successions}
    orphans = [c.code for c in ccgs if c.close_date < CCG_LAST_DAY and c.code not in with_successor]
    if orphans:
        raise NhsDataError(
            f"{MEMBERSHIP}: CCG(s) {', '.join(sorted(orphans))} closed before 2022 but no "
            f"successor could be found for them in {FRAME_2013}"
        )

    for ccg in ccgs:
        if ccg.close_date != CCG_LAST_DAY:
            continue
        if ccg.code not in ccg21:
            raise NhsDataError(
                f"{CCG21_TO_ICB22}: CCG {ccg.code} was open on 30 June 2022 but is missing"
            )
        icb_code = ccg21[ccg.code].text("ICB22CDH")
        successions.append(SuccessionRecord(ccg.key, (ICB, icb_code), REPLACED_BY, ICB_FIRST_DAY))
        successions.append(
            SuccessionRecord(ccg.key, (SUB_ICB, ccg.code), CONTINUED_AS, ICB_FIRST_DAY)
        )
    return sorted(successions, key=lambda s: (s.effective_date, s.predecessor, s.successor))


# --- area links ----------------------------------------------------------------------

# The three CCGs that merged into 13T Newcastle Gateshead on 1 April 2015 are absent from
# the 2015 lookup, which only knows 13T. Each lay wholly within one local authority, so
# their links are stated here. 00F Gateshead covered Gateshead exactly (13T's Gateshead
# part holds all of Gateshead's small areas); how Newcastle's small areas split between
# 00G and 00H is not in our files, so that share stays unknown.
PRE_2015_LINKS = [
    AreaLinkRecord((CCG, "00F"), (HWB, "E08000037"), 1.0, 1.0),  # Gateshead
    AreaLinkRecord((CCG, "00G"), (HWB, "E08000021"), 1.0, None),  # Newcastle upon Tyne
    AreaLinkRecord((CCG, "00H"), (HWB, "E08000021"), 1.0, None),  # Newcastle upon Tyne
]


def _area_links(data_dir: Path, known: set[OrgKey]) -> list[AreaLinkRecord]:
    rows = _read(
        data_dir,
        CCG15_TO_UTLA,
        ["CCG15CDH", "UTLA_CD", "share_of_ccg_lsoas", "share_of_utla_lsoas"],
    )
    links: dict[tuple[OrgKey, OrgKey], AreaLinkRecord] = {}
    for row in rows:
        commissioner, hwb = (CCG, row.text("CCG15CDH")), (HWB, row.text("UTLA_CD"))
        if commissioner not in known:
            raise row.error("CCG15CDH", f"{commissioner[1]!r} is not a known CCG")
        if hwb not in known:
            raise row.error("UTLA_CD", f"{hwb[1]!r} is not a known upper-tier local authority")
        if (commissioner, hwb) in links:
            raise row.error("UTLA_CD", f"the pair {commissioner[1]}–{hwb[1]} repeats")
        links[(commissioner, hwb)] = AreaLinkRecord(
            commissioner, hwb, row.share("share_of_ccg_lsoas"), row.share("share_of_utla_lsoas")
        )
    for link in PRE_2015_LINKS:
        if link.commissioner not in known or link.hwb not in known:
            raise NhsDataError(
                f"{CCG15_TO_UTLA}: the stated link {link} names an unknown organisation"
            )
        links.setdefault((link.commissioner, link.hwb), link)
    return list(links.values())


def load_nhs_data(data_dir: Path = DATA_DIR) -> NhsData:
    """Every organisation, succession and area link in the packaged files."""
    ccgs, frame, ccg21 = _ccgs(data_dir)
    icbs, sub_icbs = _icbs_and_sub_icbs(data_dir, ccg21)
    hwbs = _hwbs(data_dir)
    practices = _practices(data_dir, set(frame))
    organisations = [*icbs, *sub_icbs, *ccgs, *hwbs, *practices]
    known = {org.key for org in organisations}
    successions = _successions(ccgs, frame, ccg21)
    for succession in successions:
        for end in (succession.predecessor, succession.successor):
            if end not in known:
                raise NhsDataError(f"succession {succession} names unknown organisation {end}")
    return NhsData(organisations, successions, _area_links(data_dir, known))
