"""``triangulum instrument check FILE``: read an XLSForm and report on it."""

from __future__ import annotations

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.fieldwork.xlsform import InstrumentError, load_instrument


class Command(TriangulumCommand):
    help = (
        "Work with XLSForm instruments (check: read a form and summarise it or list its problems)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        check = actions.add_parser(
            "check",
            help="read FILE (.xlsx, .xls, .csv, .md, .json or a compiled .xml XForm); "
            "print a summary, or each problem with its sheet, row and column",
        )
        check.add_argument("file", metavar="FILE")

    def handle(self, *args, **options):
        if options["action"] == "check":
            self.check_file(options["file"])

    def check_file(self, path: str) -> None:
        try:
            instrument = load_instrument(path)
        except InstrumentError as err:
            for problem in err.problems:
                self.stderr.write(problem.describe(err.source))
            count = len(err.problems)
            raise CommandError(
                f"{path}: refused, {count} problem{'s' if count != 1 else ''} found"
            ) from err
        summary = instrument.summary()
        out = self.stdout
        out.write(f"{path}: accepted")
        out.write(f"  title     {summary['title']}")
        out.write(f"  form id   {summary['form_id']}")
        out.write(f"  version   {summary['version'] or '(none)'}")
        languages = ", ".join(summary["languages"]) or "(untranslated)"
        out.write(f"  languages {languages}")
        out.write(f"  groups    {summary['groups']}")
        out.write(f"  repeats   {summary['repeats']}")
        out.write(f"  metadata  {summary['metadata']}")
        out.write("  items by type:")
        width = max((len(t) for t in summary["items_by_type"]), default=0)
        for item_type, count in summary["items_by_type"].items():
            out.write(f"    {item_type:<{width}}  {count:>4}")
        out.write("  expressions:")
        for attribute, count in summary["expressions"].items():
            out.write(f"    {attribute:<14}  {count:>4}")
        for warning in instrument.warnings:
            out.write(f"  pyxform warning: {' '.join(warning.split())}")
