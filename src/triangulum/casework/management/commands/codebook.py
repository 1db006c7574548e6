"""``triangulum codebook``: export or import a study's codebook (CSV or REFI .qdc)."""

import argparse
from pathlib import Path

from django.core.management.base import CommandParser

from triangulum.casework import actions, queries
from triangulum.casework.codebook.csvio import read_codebook_csv, write_codebook_csv
from triangulum.casework.codebook.qdc import codebook_qdc_bytes, read_codebook_qdc
from triangulum.casework.codebook.records import CodebookFileError
from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies.management.commands._actor import cli_actor

from .source import find_study

FORMATS = (".csv", ".qdc")


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CommandError(f"{path}: a codebook file must end in .csv or .qdc (REFI-QDA codebook).")
    return suffix


class Command(TriangulumCommand):
    help = (
        "A study's codebook: export it to CSV or REFI-QDA .qdc, import one (new codes are "
        "added, codes with the same path updated), or install the built-in CCG framework."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=CommandParser
        )
        export = commands.add_parser("export", help="write the codebook to FILE.csv or FILE.qdc")
        export.add_argument("file", metavar="FILE", type=Path)
        load = commands.add_parser("import", help="read a codebook from FILE.csv or FILE.qdc")
        load.add_argument("file", metavar="FILE", type=Path)
        commands.add_parser("install-builtin", help="add the CCG study's initial framework")
        for subparser in commands.choices.values():
            subparser.add_argument("--study", required=True, metavar="SLUG")
            subparser.add_argument(
                "--dir", metavar="DIR", default=argparse.SUPPRESS, help="the study folder"
            )

    def handle(self, *args, **options):
        study = find_study(options["study"])
        action = options["action"]
        if action == "export":
            self.handle_export(study, options["file"])
        elif action == "import":
            self.handle_import(study, options["file"])
        else:
            version = actions.install_builtin_codebook(
                study=study, actor=cli_actor("codebook install-builtin")
            )
            self.stdout.write(
                f"{study.slug}: codebook version {version.number}, "
                f"{study.codes.filter(is_active=True).count()} active codes."
            )

    def handle_export(self, study, path: Path):
        kind = _format_of(path)
        records = queries.codebook_records(study)
        if not records:
            raise CommandError(f"Study '{study.slug}' has no codes to export.")
        if kind == ".csv":
            path.write_text(write_codebook_csv(records), encoding="utf-8", newline="")
        else:
            path.write_bytes(codebook_qdc_bytes(records, name=study.title))
        version = actions.current_codebook_version(study)
        self.stdout.write(
            f"Wrote {len(records)} codes (codebook version {version.number}) to {path}."
        )

    def handle_import(self, study, path: Path):
        kind = _format_of(path)
        try:
            if kind == ".csv":
                records = read_codebook_csv(path.read_bytes(), path.name)
                notes = []
            else:
                records, notes = read_codebook_qdc(path)
            result = actions.import_codebook(
                study=study,
                records=records,
                actor=cli_actor("codebook import"),
                note=f"imported {path.name}",
                file_name=path.name,
            )
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}.") from None
        except CodebookFileError as error:
            raise CommandError(f"{error}; nothing was imported.") from None
        except actions.CaseworkError as error:
            raise CommandError(f"{path.name}: {error.message}; nothing was imported.") from None
        for note in notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(
            f"{path.name}: {result.created} code(s) added, {result.updated} updated, "
            f"{result.unchanged} unchanged; codebook version {result.version.number}."
        )
