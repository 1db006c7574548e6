"""The packaged NHS files, read without Django: counts, names, successions, area links."""

import filecmp
import shutil
from datetime import date

import pytest

from triangulum.organisations import nhs_data
from triangulum.organisations.nhs_data import (
    CCG,
    CONTINUED_AS,
    HWB,
    ICB,
    MERGED_INTO,
    PRACTICE,
    REPLACED_BY,
    SUB_ICB,
    NhsDataError,
    load_nhs_data,
    read_membership_flags,
    title_case,
)
from triangulum.testing import shared_path


@pytest.fixture(scope="module")
def data():
    return load_nhs_data()


@pytest.fixture(scope="module")
def orgs(data):
    return data.by_key()


def open_on(data, org_type, day):
    return {org.code for org in data.of_type(org_type) if org.is_open_on(day)}


def test_packaged_files_are_the_published_ones():
    source = shared_path("data", "nhs")
    for packaged in sorted(nhs_data.DATA_DIR.glob("*.csv")):
        assert filecmp.cmp(packaged, source / packaged.name, shallow=False), packaged.name
    assert "Open Government Licence v3.0" in (nhs_data.DATA_DIR / "README.md").read_text()


def test_counts_of_each_type(data):
    counts = {t: len(data.of_type(t)) for t in (CCG, ICB, SUB_ICB, HWB, PRACTICE)}
    assert counts == {CCG: 248, ICB: 42, SUB_ICB: 106, HWB: 152, PRACTICE: 8053}
    assert sum(p.registered_patients for p in data.of_type(PRACTICE)) == 56_002_534


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2013, 4, 1), 211),
        (date(2015, 4, 1), 209),
        (date(2017, 4, 1), 207),
        (date(2018, 4, 1), 195),
        (date(2019, 4, 1), 191),
        (date(2020, 4, 1), 135),
        (date(2021, 4, 1), 106),
    ],
)
def test_ccgs_open_on_each_date_match_the_membership_flags(data, day, expected):
    flags = read_membership_flags()
    assert len(flags[day]) == expected  # the counts the data README states
    assert open_on(data, CCG, day) == flags[day]


def test_on_1_july_2022_the_flagged_ccgs_are_sub_icb_locations_and_no_ccg_is_open(data):
    day = date(2022, 7, 1)
    assert open_on(data, SUB_ICB, day) == read_membership_flags()[day]
    assert open_on(data, CCG, day) == set()
    assert len(open_on(data, ICB, day)) == 42
    still_open = open_on(data, CCG, date(2022, 6, 30))
    assert still_open == open_on(data, SUB_ICB, day)


def test_ccg_names_follow_the_best_source(orgs):
    darlington = orgs[(CCG, "00C")]
    assert darlington.name == "NHS Darlington CCG"  # 2013 frame
    assert darlington.ons_code == "E38000042"
    assert orgs[(CCG, "16C")].name == "NHS Tees Valley CCG"  # CCG of 2021
    assert orgs[(CCG, "15D")].name == "NHS East Berkshire CCG"  # ODS name, title case
    cumbria = orgs[(CCG, "01H")]
    assert cumbria.name == "NHS Cumbria CCG"
    assert cumbria.attributes["name_2021"] == "NHS North Cumbria CCG"


def test_2013_ccgs_carry_region_area_team_and_size(orgs):
    darlington = orgs[(CCG, "00C")]
    assert (darlington.region_code, darlington.region_name) == ("Y54", "North of England")
    assert darlington.area_team_code == "Q45"
    assert darlington.area_team_name == "Durham, Darlington and Tees Area Team"
    assert (darlington.registered_patients, darlington.practices) == (105876, 11)
    assert darlington.allocation_000s == 130681
    assert darlington.attributes["qof_list_size_2013_14"] == 106303
    assert darlington.attributes["region_2020_code"] == "Y63"
    assert (darlington.open_date, darlington.close_date) == (date(2013, 4, 1), date(2020, 3, 31))


def test_every_ccg_still_open_closes_when_ccgs_were_abolished(data):
    for ccg in data.of_type(CCG):
        assert ccg.close_date is not None and ccg.close_date <= date(2022, 6, 30)
    assert sum(c.close_date == date(2022, 6, 30) for c in data.of_type(CCG)) == 106


def test_icbs_have_2020_regions_and_short_names(orgs, data):
    qhm = orgs[(ICB, "QHM")]
    assert qhm.name == "NHS North East and North Cumbria ICB"
    assert qhm.attributes["full_name"] == "NHS North East and North Cumbria Integrated Care Board"
    assert (qhm.region_code, qhm.region_name) == ("Y63", "North East and Yorkshire")
    assert {icb.region_code for icb in data.of_type(ICB)} == set(nhs_data.NHS_ENGLAND_REGIONS_2020)
    assert all(
        icb.open_date == date(2022, 7, 1) and icb.close_date is None for icb in data.of_type(ICB)
    )


def test_sub_icb_locations_belong_to_their_icb(orgs):
    location = orgs[(SUB_ICB, "16C")]
    assert location.parent == (ICB, "QHM")
    assert location.open_date == date(2022, 7, 1)
    assert location.name == "NHS North East and North Cumbria ICB - 16C"


def test_hwbs_and_practices(orgs, data):
    darlington = orgs[(HWB, "E06000005")]
    assert darlington.name == "Darlington"
    assert darlington.attributes["la_type"] == "unitary"
    assert darlington.open_date == date(2013, 4, 1)
    practice = orgs[(PRACTICE, "F82018")]
    assert practice.parent == (CCG, "07L")
    assert practice.region_name == "London" and practice.area_team_code == "Q61"
    assert practice.registered_patients == 11047
    # Practice dates are unknown: null means open as far as our records go.
    assert all(p.open_date is None and p.close_date is None for p in data.of_type(PRACTICE))


def successions_from(data, code):
    return [s for s in data.successions if s.predecessor == (CCG, code)]


def test_merger_into_a_2021_ccg(data):
    [darlington] = successions_from(data, "00C")
    assert darlington.successor == (CCG, "16C")
    assert darlington.kind == MERGED_INTO
    assert darlington.effective_date == date(2020, 4, 1)
    assert darlington.share == 1.0


def test_merger_takes_effect_after_the_predecessor_closes_even_if_successor_opened_earlier(data):
    into_13t = [s for s in data.successions if s.successor == (CCG, "13T")]
    assert sorted(s.predecessor[1] for s in into_13t) == ["00F", "00G", "00H"]
    assert {s.effective_date for s in into_13t} == {date(2015, 4, 1)}


def test_an_intermediate_ccg_bridges_the_gap_to_the_2021_successor(data):
    for code in ("10G", "10T", "11C"):
        [step] = successions_from(data, code)
        assert (step.successor, step.effective_date) == ((CCG, "15D"), date(2018, 4, 1))
    [east_berkshire] = successions_from(data, "15D")
    assert (east_berkshire.successor, east_berkshire.effective_date) == (
        (CCG, "D4U1Y"),
        date(2021, 4, 1),
    )
    [surrey_heath] = successions_from(data, "10C")  # went straight to Frimley in 2021
    assert (surrey_heath.successor, surrey_heath.effective_date) == (
        (CCG, "D4U1Y"),
        date(2021, 4, 1),
    )


def test_every_ccg_has_exactly_one_way_forward(data):
    for ccg in data.of_type(CCG):
        kinds = sorted(s.kind for s in successions_from(data, ccg.code))
        if ccg.close_date < date(2022, 6, 30):
            assert kinds == [MERGED_INTO], ccg.code
        else:
            assert kinds == [CONTINUED_AS, REPLACED_BY], ccg.code


def test_2022_transition(data):
    steps = {(s.kind, s.successor) for s in successions_from(data, "16C")}
    assert steps == {(REPLACED_BY, (ICB, "QHM")), (CONTINUED_AS, (SUB_ICB, "16C"))}
    assert {s.effective_date for s in successions_from(data, "16C")} == {date(2022, 7, 1)}


def test_area_links(data):
    links = {(link.commissioner[1], link.hwb[1]): link for link in data.area_links}
    assert len(links) == 241 + 3
    surrey_heath = links[("10C", "E10000030")]
    assert (surrey_heath.share_of_commissioner, surrey_heath.share_of_hwb) == (1.0, 0.0846)
    # The three CCGs merged into 13T in 2015, stated by hand (the lookup has 2015 codes).
    assert links[("00F", "E08000037")].share_of_hwb == 1.0  # Gateshead
    assert links[("00G", "E08000021")].share_of_commissioner == 1.0  # Newcastle upon Tyne
    assert links[("00H", "E08000021")].share_of_hwb is None
    linked_ccgs = {code for code, _ in links}
    assert open_on(data, CCG, date(2013, 4, 1)) <= linked_ccgs
    assert open_on(data, CCG, date(2015, 4, 1)) <= linked_ccgs


def test_title_case():
    assert title_case("NHS BRIGHTON AND HOVE CCG") == "NHS Brighton and Hove CCG"
    assert title_case("NHS STAFFORDSHIRE AND STOKE-ON-TRENT ICB - 04Y") == (
        "NHS Staffordshire and Stoke-on-Trent ICB - 04Y"
    )
    assert title_case("ST MARY'S SURGERY") == "St Mary's Surgery"
    assert title_case("THE ISLES OF SCILLY") == "The Isles of Scilly"


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(nhs_data.DATA_DIR, target)
    return target


def test_an_ambiguous_intermediate_ccg_fails_loudly(data_copy):
    membership = data_copy / "ccg_membership_by_date.csv"
    lines = membership.read_text().splitlines(keepends=True)
    east_berkshire = next(line for line in lines if line.startswith("15D,"))
    membership.write_text("".join(lines) + east_berkshire.replace("15D,", "15X,", 1))
    with pytest.raises(
        NhsDataError, match=r"CCG 10G closed .* expected exactly one CCG in between, found 15D, 15X"
    ):
        load_nhs_data(data_copy)


def test_a_bad_cell_is_reported_with_file_row_and_column(data_copy):
    frame = data_copy / "ccg_2013_frame.csv"
    frame.write_text(frame.read_text().replace(",105876,", ",lots,", 1))
    with pytest.raises(NhsDataError) as error:
        load_nhs_data(data_copy)
    assert str(error.value) == (
        "ccg_2013_frame.csv, row 43, column registered_patients_2013Q1: 'lots' is not a whole number"
    )


def test_a_practice_of_an_unknown_ccg_is_refused(data_copy):
    practices = data_copy / "gp_practices_2013q1.csv"
    practices.write_text(
        practices.read_text().replace(
            "F82018,BARKING MEDICAL GROUP PRACTICE,07L", "F82018,BARKING MEDICAL GROUP PRACTICE,ZZZ"
        )
    )
    with pytest.raises(
        NhsDataError,
        match=r"gp_practices_2013q1.csv, row 2, column ccg_ods_code: 'ZZZ' is not a CCG of April 2013",
    ):
        load_nhs_data(data_copy)


def test_a_missing_file_is_named(data_copy):
    (data_copy / "icb_2022.csv").unlink()
    with pytest.raises(NhsDataError, match="icb_2022.csv: file is missing"):
        load_nhs_data(data_copy)
