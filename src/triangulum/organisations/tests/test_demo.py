import csv

import pytest

from triangulum.core.demo_registry import DemoContext, collect_steps
from triangulum.organisations import demo

pytestmark = pytest.mark.django_db


def test_demo_step_is_registered():
    assert any(step.run is demo.run for step in collect_steps())


def test_demo_step_loads_organisations_and_writes_the_2013_ccg_frame(tmp_path):
    ctx = DemoContext(directory=tmp_path, outputs=tmp_path / "outputs")
    demo.run(ctx)
    path = tmp_path / "outputs" / "frame_ccg_2013-04-01.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 211
    assert {row["org_type"] for row in rows} == {"ccg"}
    assert ctx.made == [(ctx.made[0][0], path)] and "211 CCGs" in ctx.made[0][0]
