"""``triangulum wave``: store instrument versions, set up waves, close fieldwork."""

from __future__ import annotations

import datetime as dt
import json

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.fieldwork import actions
from triangulum.fieldwork.models import InstrumentVersion, Wave
from triangulum.fieldwork.xlsform import InstrumentError
from triangulum.studies.models import Study


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(TriangulumCommand):
    help = (
        "Survey waves: import an instrument version (an XLSForm), create a wave, list "
        "waves, close a wave's fieldwork (final AAPOR codes for open cases)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser("import-instrument", help="store FILE as a version of instrument SLUG")
        imp.add_argument("study", metavar="STUDY")
        imp.add_argument("slug", metavar="SLUG")
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--title", default="")
        create = sub.add_parser("create", help="create a wave")
        create.add_argument("study", metavar="STUDY")
        create.add_argument("--number", type=int, required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--instrument", required=True, help="instrument slug")
        create.add_argument("--version", help="instrument version (default: the latest)")
        create.add_argument("--vintage", required=True, help="frame vintage, YYYY-MM-DD")
        create.add_argument("--start", required=True, help="first field day, YYYY-MM-DD")
        create.add_argument("--end", required=True, help="last field day, YYYY-MM-DD")
        create.add_argument(
            "--modes", default="telephone", help="comma-separated: telephone,web,paper"
        )
        create.add_argument("--max-attempts", type=int, default=8)
        create.add_argument(
            "--calling-windows",
            default="",
            help='JSON, e.g. {"weekdays": [0,1,2,3,4], "start": "09:00", "end": "17:30"} '
            "(UK time; this is the default)",
        )
        listing = sub.add_parser("list", help="list a study's waves")
        listing.add_argument("study", metavar="STUDY")
        close = sub.add_parser("close", help="end fieldwork: finalise every open case")
        close.add_argument("study", metavar="STUDY")
        close.add_argument("number", type=int, metavar="NUMBER")

    def _study(self, slug: str) -> Study:
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"no study {slug!r}")
        return study

    def handle(self, *args, **options):
        from triangulum.studies.management.commands._actor import cli_actor

        actor = cli_actor("wave")
        study = self._study(options["study"])
        action = options["action"]
        if action == "import-instrument":
            try:
                version = actions.import_instrument_version(
                    actor=actor,
                    study=study,
                    slug=options["slug"],
                    title=options["title"],
                    file_path=options["file"],
                )
            except InstrumentError as error:
                for problem in error.problems:
                    self.stderr.write(problem.describe(error.source))
                raise CommandError(f"{options['file']}: refused, nothing stored") from None
            except OSError as error:
                raise CommandError(f"cannot read {options['file']}: {error}") from None
            self.stdout.write(
                f"Instrument {options['slug']} version {version.version} stored "
                f"(sha256 {version.sha256[:12]}…)."
            )
        elif action == "create":
            versions = InstrumentVersion.objects.filter(
                instrument__study=study, instrument__slug=options["instrument"]
            )
            if options["version"]:
                versions = versions.filter(version=options["version"])
            version = versions.order_by("-created_at", "-id").first()
            if version is None:
                raise CommandError(
                    f"no instrument {options['instrument']!r} (version "
                    f"{options['version'] or 'any'}) in {study.slug}"
                )
            try:
                windows = (
                    json.loads(options["calling_windows"]) if options["calling_windows"] else {}
                )
                wave = actions.create_wave(
                    actor=actor,
                    study=study,
                    number=options["number"],
                    name=options["name"],
                    instrument_version=version,
                    frame_vintage=_date(options["vintage"]),
                    field_start=_date(options["start"]),
                    field_end=_date(options["end"]),
                    modes=[m.strip() for m in options["modes"].split(",") if m.strip()],
                    max_attempts=options["max_attempts"],
                    calling_windows=windows,
                )
            except (actions.FieldworkError, json.JSONDecodeError) as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Wave {wave.number} '{wave.name}' created.")
        elif action == "list":
            for wave in Wave.objects.filter(study=study).order_by("number"):
                self.stdout.write(
                    f"{wave.number}\t{wave.name}\t{wave.field_start}..{wave.field_end}\t"
                    f"{','.join(wave.modes)}\t{wave.interviews.count()} respondents"
                )
        elif action == "close":
            wave = Wave.objects.filter(study=study, number=options["number"]).first()
            if wave is None:
                raise CommandError(f"no wave {options['number']} in {study.slug}")
            counts = actions.close_wave(actor=actor, wave=wave)
            self.stdout.write(
                f"Closed {wave}: "
                + (
                    ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
                    or "no open cases"
                )
            )
