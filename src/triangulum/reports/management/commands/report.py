"""triangulum report practitioner|guidance|article --study SLUG [--format docx,pdf,html] --out DIR"""

from pathlib import Path

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies.models import Study

from ... import actions
from ...document import REPORT_KINDS


class Command(TriangulumCommand):
    help = (
        "Write a study's practitioner report, guidance document or article pack as Word, PDF "
        "and/or one self-contained HTML file, each with its provenance appendix; every build "
        "is recorded with the hashes of its inputs and output."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "kinds",
            nargs="+",
            metavar="KIND",
            help=f"one or more of {', '.join(REPORT_KINDS)} (or a comma list)",
        )
        parser.add_argument("--study", required=True, help="the study's slug")
        parser.add_argument(
            "--format",
            dest="formats",
            action="append",
            default=[],
            metavar="FORMAT",
            help="docx, pdf or html; repeat it or give a comma list (default: all three)",
        )
        parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")

    def handle(self, *args, **options):
        try:
            kinds = actions.parse_kinds(options["kinds"])
            formats = actions.parse_formats(options["formats"])
        except actions.ReportError as error:
            raise CommandError(str(error)) from None
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            known = ", ".join(Study.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"No study with slug {options['study']!r}"
                + (f" (studies here: {known})." if known else " (this database has no studies).")
            )
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} is a file, not a folder.")
        try:
            paths = actions.write_reports(
                study=study,
                kinds=kinds,
                formats=formats,
                out_dir=out,
                actor="triangulum report",
            )
        except actions.ReportError as error:
            raise CommandError(str(error)) from None
        for path in paths:
            self.stdout.write(f"{path} ({path.stat().st_size:,} bytes)")
        if study.is_simulated:
            self.stdout.write("Built from simulated data: every page says so.")
