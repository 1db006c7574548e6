import datetime
import random

import pytest
from django.contrib.auth import get_user_model

from triangulum.organisations.models import Organisation
from triangulum.studies.models import Study, StudyMembership

APRIL_2013 = datetime.date(2013, 4, 1)
# (region code, region name, CCGs in the small test frame)
REGIONS = [
    ("Y54", "North of England", 9),
    ("Y55", "Midlands and East of England", 7),
    ("Y56", "London", 4),
    ("Y57", "South of England", 6),
]
FRAME_SIZE = sum(count for _, _, count in REGIONS)


@pytest.fixture
def study(db):
    return Study.objects.create(slug="ccg-test", title="CCG test study")


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("lead", password="pw")


@pytest.fixture
def ccgs(db):
    """A small frame: 26 CCGs open on 1 April 2013, plus organisations outside that frame."""
    generator = random.Random(7)
    made = []
    number = 0
    for code, name, count in REGIONS:
        for _ in range(count):
            number += 1
            patients = generator.randint(60_000, 900_000)
            made.append(
                Organisation(
                    org_type="ccg",
                    ods_code=f"{number:02d}X",
                    name=f"NHS Test {number:02d} CCG",
                    open_date=APRIL_2013,
                    close_date=datetime.date(2020, 3, 31) if number % 5 == 0 else None,
                    region_code=code,
                    region_name=name,
                    registered_patients=patients,
                    practices=generator.randint(5, 90),
                    allocation_000s=patients * generator.randint(900, 1500) // 1000,
                )
            )
    made += [
        # Not in the April 2013 frame: opened later, closed earlier, or another kind.
        Organisation(
            org_type="ccg",
            ods_code="LATE",
            name="NHS Later CCG",
            open_date=datetime.date(2015, 4, 1),
            region_code="Y56",
            region_name="London",
        ),
        Organisation(
            org_type="ccg",
            ods_code="GONE",
            name="NHS Gone CCG",
            open_date=datetime.date(2012, 1, 1),
            close_date=datetime.date(2013, 3, 31),
            region_code="Y56",
            region_name="London",
        ),
        Organisation(
            org_type="hwb",
            ods_code="E10000001",
            name="Somewhere County Council",
            region_code="Y57",
            region_name="South of England",
        ),
    ]
    Organisation.objects.bulk_create(made)
    return Organisation.objects.filter(org_type="ccg", open_date=APRIL_2013)


def member(study, username: str, role: str):
    account = get_user_model().objects.create_user(username, password="pw")
    StudyMembership.objects.create(study=study, user=account, role=role)
    return account
