"""`triangulum frame list` and the queries behind it, on the full NHS data."""

import csv
import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from triangulum.organisations import queries
from triangulum.organisations.models import Organisation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nhs_organisations")]


def frame_list(*args) -> str:
    out = io.StringIO()
    call_command("frame", "list", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--type", "ccg", "--open-on", "2013-04-01"], "211"),
        (["--type", "ccg", "--open-on", "2021-04-01"], "106"),
        (["--type", "ccg", "--open-on", "2022-07-01"], "0"),
        (["--type", "icb", "--open-on", "2022-07-01"], "42"),
        (["--type", "sub_icb", "--open-on", "2022-07-01"], "106"),
        (["--type", "hwb"], "152"),
        (["--type", "practice"], "8053"),
        (["--type", "practice", "--open-on", "2013-04-01"], "8053"),
    ],
)
def test_counts(args, expected):
    assert frame_list(*args, "--count") == expected


def test_total_registered_patients_of_practices():
    assert frame_list("--type", "practice", "--total", "registered_patients") == "56002534"


def test_region_and_size_filters():
    ccgs_2013 = ["--type", "ccg", "--open-on", "2013-04-01"]
    by_region = {
        code: int(frame_list(*ccgs_2013, "--region", code, "--count"))
        for code in ("Y54", "Y55", "Y56", "Y57")
    }
    assert sum(by_region.values()) == 211
    assert int(frame_list(*ccgs_2013, "--region", "london", "--count")) == by_region["Y56"]
    large = int(frame_list(*ccgs_2013, "--min-patients", "500000", "--count"))
    assert 0 < large < 211
    rows = list(csv.DictReader(io.StringIO(frame_list(*ccgs_2013, "--min-patients", "500000"))))
    assert len(rows) == large
    assert all(int(row["registered_patients"]) >= 500000 for row in rows)


def test_csv_output_has_a_header_and_one_row_per_organisation():
    rows = list(csv.DictReader(io.StringIO(frame_list("--type", "icb", "--open-on", "2022-07-01"))))
    assert len(rows) == 42
    qhm = next(row for row in rows if row["ods_code"] == "QHM")
    assert qhm["name"] == "NHS North East and North Cumbria ICB"
    assert qhm["open_date"] == "2022-07-01" and qhm["close_date"] == ""
    assert qhm["region_code"] == "Y63"


def test_json_output():
    rows = json.loads(frame_list("--type", "sub_icb", "--region", "Y63", "--format", "json"))
    icbs_in_region = set(queries.frame("icb", region="Y63").values_list("ods_code", flat=True))
    assert {row["parent_code"] for row in rows} == icbs_in_region
    assert sum(row["org_type"] == "sub_icb" for row in rows) == len(rows) > 0
    tees = next(row for row in rows if row["ods_code"] == "16C")
    assert tees["parent_type"] == "icb" and tees["parent_code"] == "QHM"
    assert tees["close_date"] is None


def test_sorting_by_patients_descending():
    rows = list(
        csv.DictReader(
            io.StringIO(
                frame_list(
                    "--type", "ccg", "--open-on", "2013-04-01", "--sort=-registered_patients"
                )
            )
        )
    )
    patients = [int(row["registered_patients"]) for row in rows]
    assert patients == sorted(patients, reverse=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "ccg", "--open-on", "2013-02-30"],
            "'2013-02-30' is not a date: use YYYY-MM-DD",
        ),
        (["--type", "trust"], "invalid choice: 'trust'"),
        (["--type", "ccg", "--min-patients", "many"], "'many' is not a whole number"),
        (["--type", "ccg", "--count", "--total", "practices"], "not allowed with argument"),
    ],
)
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        frame_list(*args)


def test_frame_query_filters():
    ccgs = queries.frame("ccg", vintage=date(2013, 4, 1))
    assert ccgs.count() == 211
    assert (
        queries.frame("ccg", vintage=date(2013, 4, 1), search="darlington").get().ods_code == "00C"
    )
    assert queries.frame("ccg", search="16c").get().name == "NHS Tees Valley CCG"
    bounded = queries.frame(
        "ccg", vintage=date(2013, 4, 1), min_patients=100_000, max_patients=150_000
    )
    assert all(100_000 <= o.registered_patients <= 150_000 for o in bounded)
    assert 0 < bounded.count() < 211
    # A CCG also matches the region of 2020 its area now lies in.
    now_north_east = queries.frame(
        "ccg", vintage=date(2013, 4, 1), region="North East and Yorkshire"
    )
    assert "00C" in set(now_north_east.values_list("ods_code", flat=True))
    by_code = list(queries.frame("icb", order_by="code").values_list("ods_code", flat=True))
    assert by_code == sorted(by_code)
    with pytest.raises(ValueError, match="cannot sort by 'size'"):
        queries.frame("ccg", order_by="size")
    with pytest.raises(ValueError, match="unknown organisation type 'trust'"):
        queries.frame("trust")


def test_regions_for_filters():
    regions = dict(queries.regions())
    assert regions["Y54"] == "North of England"
    assert regions["Y63"] == "North East and Yorkshire"
    assert len(regions) == 10
    assert set(dict(queries.regions("icb"))) == {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}


def org(org_type, code):
    return Organisation.objects.get(org_type=org_type, ods_code=code)


def describe(steps):
    return [
        (
            s.predecessor.ods_code,
            s.kind,
            s.successor.org_type,
            s.successor.ods_code,
            s.effective_date,
        )
        for s in steps
    ]


def test_lineage_of_darlington():
    # Exactly these steps: 00D also merged into 16C but, as a sibling, is not followed.
    assert describe(queries.lineage(org("ccg", "00C"))) == [
        ("00C", "merged_into", "ccg", "16C", date(2020, 4, 1)),
        ("16C", "continued_as", "sub_icb", "16C", date(2022, 7, 1)),
        ("16C", "replaced_by", "icb", "QHM", date(2022, 7, 1)),
    ]


def test_lineage_of_newcastle_gateshead_shows_its_predecessors():
    steps = queries.lineage(org("ccg", "13T"))
    before = [s for s in steps if s.side == "before"]
    assert sorted(s.predecessor.ods_code for s in before) == ["00F", "00G", "00H"]
    assert {s.effective_date for s in before} == {date(2015, 4, 1)}
    assert [s.effective_date for s in steps] == sorted(s.effective_date for s in steps)


def test_lineage_of_frimley_goes_back_through_east_berkshire():
    steps = queries.lineage(org("ccg", "D4U1Y"))
    predecessors = {s.predecessor.ods_code for s in steps if s.side == "before"}
    assert {"15D", "10G", "10T", "11C", "10C"} <= predecessors
    after = {(s.kind, s.successor.ods_code) for s in steps if s.side == "after"}
    assert after == {("replaced_by", "QNQ"), ("continued_as", "D4U1Y")}


def test_area_links_both_ways():
    gateshead_ccg = {
        link.hwb.name: link.share_of_hwb for link in queries.hwbs_for(org("ccg", "00F"))
    }
    assert gateshead_ccg == {"Gateshead": 1.0}
    # A sub-ICB location covers the area of the CCG it continued.
    assert [link.hwb.name for link in queries.hwbs_for(org("sub_icb", "13T"))] == [
        "Gateshead",
        "Newcastle upon Tyne",
    ]
    surrey = {
        link.commissioner.ods_code for link in queries.commissioners_for(org("hwb", "E10000030"))
    }
    assert {"10C", "11C"} <= surrey
