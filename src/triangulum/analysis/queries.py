"""Read-side shaping for analysis pages and downloads."""

import csv
import io

from .models import AnalysisResult, AnalysisRun


def latest_runs(study) -> list[AnalysisRun]:
    """The latest run of each step, in the order the steps run."""
    from .steps import STEPS

    latest = {}
    for run in AnalysisRun.objects.filter(study=study).prefetch_related("results"):
        latest.setdefault(run.step, run)
    order = [s.name for s in STEPS]
    return sorted(latest.values(), key=lambda r: order.index(r.step) if r.step in order else 99)


def result_csv(result: AnalysisResult) -> str:
    stream = io.StringIO()
    columns = result.columns
    writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in result.data or []:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return stream.getvalue()


def result_xlsx(result: AnalysisResult) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = result.name[:31]
    columns = result.columns
    sheet.append(columns)
    for row in result.data or []:
        values = []
        for column in columns:
            value = row.get(column)
            values.append(
                value if isinstance(value, int | float | str) or value is None else str(value)
            )
        sheet.append(values)
    about = book.create_sheet("about")
    run = result.run
    for label, value in (
        ("caption", result.caption),
        ("step", run.step),
        ("parameters", str(run.parameters)),
        ("seed", run.seed),
        ("inputs hash (SHA-256)", run.inputs_hash),
        ("code version", run.code_version),
        ("finished", run.finished_at.isoformat() if run.finished_at else ""),
        ("simulated", "yes: simulated data" if run.is_simulated else "no"),
    ):
        about.append([label, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
