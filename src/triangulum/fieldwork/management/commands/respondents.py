"""``triangulum respondents import``: add a wave's respondents from a CSV file."""

from __future__ import annotations

from pathlib import Path

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.fieldwork import actions
from triangulum.fieldwork.models import Wave


class Command(TriangulumCommand):
    help = (
        "Import a wave's respondents from CSV (organisation_code, role, full_name, phone; "
        "optional phone_alt, email, job_title, mode, priority). Any problem rejects the file."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser("import", help="import FILE into wave NUMBER of STUDY")
        imp.add_argument("study", metavar="STUDY")
        imp.add_argument("number", type=int, metavar="NUMBER")
        imp.add_argument("file", metavar="FILE")
        links = sub.add_parser("links", help="print each web respondent's self-completion path")
        links.add_argument("study", metavar="STUDY")
        links.add_argument("number", type=int, metavar="NUMBER")

    def handle(self, *args, **options):
        from triangulum.studies.management.commands._actor import cli_actor

        wave = Wave.objects.filter(study__slug=options["study"], number=options["number"]).first()
        if wave is None:
            raise CommandError(f"no wave {options['number']} in study {options['study']!r}")
        if options["action"] == "links":
            for interview in wave.interviews.select_related("participant").order_by("id"):
                self.stdout.write(f"{interview.participant.pseudonym}\t/r/{interview.web_token}/")
            return
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {path} as UTF-8 text: {error}") from None
        try:
            count = actions.import_respondents(
                actor=cli_actor("respondents"), wave=wave, text=text, source=str(path)
            )
        except actions.RespondentImportError as error:
            for problem in error.problems:
                self.stderr.write(problem.describe(str(path)))
            raise CommandError(
                f"{path}: rejected, {len(error.problems)} problem(s); nothing stored"
            ) from None
        self.stdout.write(f"Imported {count} respondents into {wave}.")
