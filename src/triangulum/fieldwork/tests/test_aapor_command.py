"""`triangulum rates FILE.csv`: the reference values through the command line."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from triangulum.fieldwork.aapor import RATE_NAMES
from triangulum.fieldwork.tests.test_aapor import OUTCOMERATE_RATES, outcomerate_dispositions


def write_csv(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def rates_json(*args) -> dict:
    out = StringIO()
    call_command("rates", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_reproduces_the_outcomerate_example(tmp_path):
    rows = "\n".join(f"{n},{code}" for n, code in enumerate(outcomerate_dispositions(), 1))
    path = write_csv(tmp_path / "dispositions.csv", f"case,disposition\n{rows}\n")
    rates = rates_json(str(path), "--e", "0.9")
    assert list(rates) == list(RATE_NAMES)
    for name, expected in OUTCOMERATE_RATES.items():
        assert round(rates[name], 3) == expected, name
    # The proportional estimate is 0.9 on these data too.
    assert rates_json(str(path), "--e-method", "proportional") == rates


def test_json_reproduces_the_responserates_example_from_a_one_column_file(tmp_path):
    # A single column is read whatever its name; a BOM from Excel is tolerated.
    path = write_csv(
        tmp_path / "outcomes.csv", "outcome\n" + "1.1\n" * 100 + "2.20\n" * 20, "utf-8-sig"
    )
    rates = rates_json(str(path))
    assert {round(rates[f"RR{n}"], 3) for n in range(1, 7)} == {0.833}
    assert {round(rates[f"COOP{n}"], 3) for n in range(1, 5)} == {1.0}
    assert {rates[f"REF{n}"] for n in range(1, 4)} == {0}
    assert {round(rates[f"CON{n}"], 3) for n in range(1, 4)} == {0.833}


def test_weight_column_is_summed(tmp_path):
    path = write_csv(tmp_path / "w.csv", "disposition,wt\n1.1,3\n2.111,1\nNC,1\n4.10,2\n")
    rates = rates_json(str(path), "--weight", "wt")
    assert rates["RR1"] == pytest.approx(3 / 5)
    assert rates["COOP1"] == pytest.approx(3 / 4)


def test_bad_weight_names_file_row_and_column(tmp_path):
    path = write_csv(tmp_path / "w.csv", "disposition,wt\n1.1,3\n2.111,lots\n")
    with pytest.raises(CommandError, match=r"w\.csv, row 3, column wt: weight \"lots\""):
        call_command("rates", str(path), "--weight", "wt", stdout=StringIO())


def test_named_column_is_used_when_there_are_several(tmp_path):
    path = write_csv(tmp_path / "c.csv", "case,final_code\n1,1.1\n2,2.20\n")
    with pytest.raises(CommandError, match='no column named "disposition"'):
        call_command("rates", str(path), stdout=StringIO())
    rates = rates_json(str(path), "--column", "final_code")
    assert rates["RR1"] == 0.5


def test_unknown_code_names_file_and_spreadsheet_row(tmp_path):
    lines = ["1.1", "1.1", "2.20", "4.10", "1.2", "5.1"]
    path = write_csv(tmp_path / "dispositions.csv", "disposition\n" + "\n".join(lines) + "\n")
    with pytest.raises(CommandError) as caught:
        call_command("rates", str(path), stdout=StringIO())
    message = str(caught.value)
    # The header is row 1, so the sixth case is on row 7.
    assert message.startswith(f'{path}, row 7: unknown AAPOR disposition "5.1"')


def test_file_with_no_eligible_case_prints_nulls(tmp_path):
    path = write_csv(tmp_path / "ne.csv", "disposition\n4.10\n4.30\n4.90\n")
    rates = rates_json(str(path))
    assert rates == dict.fromkeys(RATE_NAMES)
    out = StringIO()
    call_command("rates", str(path), stdout=out)
    assert out.getvalue().count("none  (denominator zero or undefined)") == 18


def test_readable_table_lists_counts_e_and_every_rate(tmp_path):
    rows = "\n".join(outcomerate_dispositions())
    path = write_csv(tmp_path / "d.csv", f"disposition\n{rows}\n")
    out = StringIO()
    call_command("rates", str(path), "--e", "0.9", stdout=out)
    text = out.getvalue()
    assert "e = 0.9000 (given)" in text
    for name in RATE_NAMES:
        assert f"\n{name} " in text
    assert "RR3      0.3704" in text
    assert "UH     unknown if household/occupied             1" in text


def test_command_line_exits_non_zero_on_bad_input(tmp_path):
    good = write_csv(tmp_path / "good.csv", "disposition\n1.1\n2.20\n")
    bad = write_csv(tmp_path / "bad.csv", "disposition\n1.1\n9\n")
    triangulum = Path(sys.executable).parent / "triangulum"
    env = {**os.environ, "TRIANGULUM_DIR": str(tmp_path / "study")}
    ok = subprocess.run(
        [triangulum, "rates", str(good), "--json"], capture_output=True, text=True, env=env
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["RR1"] == 0.5
    failed = subprocess.run(
        [triangulum, "rates", str(bad)], capture_output=True, text=True, env=env
    )
    assert failed.returncode != 0
    assert f'{bad}, row 3: unknown AAPOR disposition "9"' in failed.stderr
