"""``triangulum source``: import case-study source files into a study, or list them."""

import argparse
from pathlib import Path

from django.core.management.base import CommandParser

from triangulum.casework import actions
from triangulum.casework.importers import SUPPORTED_EXTENSIONS
from triangulum.casework.models import Source
from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.organisations.models import Organisation
from triangulum.studies.management.commands._actor import cli_actor
from triangulum.studies.models import Study


def find_study(slug: str) -> Study:
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"No study with slug '{slug}' (studies: {known}).")
    return study


def find_site(ods_code: str) -> Organisation:
    matches = list(Organisation.objects.filter(ods_code__iexact=ods_code))
    if len(matches) > 1:
        # The same code can be reused after a merger; the one still open is meant.
        matches = [o for o in matches if o.close_date is None] or matches
    if not matches:
        raise CommandError(f"--site: no organisation has the ODS code '{ods_code}'.")
    if len(matches) > 1:
        names = "; ".join(f"{o.name} ({o.get_org_type_display()})" for o in matches)
        raise CommandError(
            f"--site: the ODS code '{ods_code}' names several organisations: {names}."
        )
    return matches[0]


class Command(TriangulumCommand):
    help = (
        "Case-study sources: import files (.txt, .md, .docx, .pdf, .odt, .vtt, .srt) or list them."
    )
    # Django's system checks would load every app's URLs, and through them the survey
    # analysis stack (pandas, SciPy): seconds of start-up before a file is read. They
    # still run with `triangulum check` and `triangulum migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=CommandParser
        )
        load = commands.add_parser(
            "import",
            help="import files as sources (all or none: a file that cannot be read stops the lot)",
        )
        load.add_argument("files", metavar="FILE", nargs="+", type=Path)
        load.add_argument("--study", required=True, metavar="SLUG")
        load.add_argument(
            "--kind", required=True, choices=Source.Kind.values, help="the kind of source"
        )
        load.add_argument("--site", metavar="ODS", help="the site (an organisation's ODS code)")
        load.add_argument("--phase", metavar="N", type=int, help="the study phase's number")
        load.add_argument(
            "--speaker",
            metavar="LABEL=PSEUDONYM",
            action="append",
            default=[],
            help="link a speaker label to a participant (repeatable), e.g. R=P003",
        )
        load.add_argument(
            "--simulated", action="store_true", help="mark the sources as simulated material"
        )
        listing = commands.add_parser("list", help="list a study's sources")
        listing.add_argument("--study", required=True, metavar="SLUG")
        for subparser in commands.choices.values():
            subparser.add_argument(
                "--dir", metavar="DIR", default=argparse.SUPPRESS, help="the study folder"
            )

    def handle(self, *args, **options):
        study = find_study(options["study"])
        if options["action"] == "list":
            self.handle_list(study)
        else:
            self.handle_import(study, options)

    def handle_list(self, study):
        rows = study.sources.order_by("title").values_list(
            "id", "title", "kind", "site__ods_code", "is_simulated"
        )
        for pk, title, kind, ods, simulated in rows:
            flag = " [simulated]" if simulated else ""
            self.stdout.write(f"{pk}\t{title}\t{kind}\t{ods or '-'}{flag}")

    def handle_import(self, study, options):
        site = find_site(options["site"]) if options["site"] else None
        phase = None
        if options["phase"] is not None:
            phase = study.phases.filter(order=options["phase"]).first()
            if phase is None:
                numbers = ", ".join(str(n) for n in study.phases.values_list("order", flat=True))
                raise CommandError(
                    f"--phase: study '{study.slug}' has no phase {options['phase']} "
                    f"(its phases: {numbers or 'none'})."
                )
        speaker_map = {}
        for item in options["speaker"]:
            label, sep, pseudonym = item.partition("=")
            if not sep or not label.strip() or not pseudonym.strip():
                raise CommandError(f"--speaker '{item}': write LABEL=PSEUDONYM, e.g. R=P003.")
            speaker_map[label.strip()] = pseudonym.strip()
        files = []
        for path in options["files"]:
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                raise CommandError(
                    f"{path}: files of type '{path.suffix or '(none)'}' cannot be imported "
                    f"(supported: {', '.join(SUPPORTED_EXTENSIONS)}); nothing was imported."
                )
            try:
                files.append(actions.SourceFile(path.name, path.read_bytes()))
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}; nothing was imported.") from None
        try:
            sources = actions.import_sources(
                study=study,
                files=files,
                kind=options["kind"],
                actor=cli_actor("source import"),
                site=site,
                phase=phase,
                speaker_map=speaker_map,
                simulated=options["simulated"],
            )
        except actions.CaseworkError as error:
            raise CommandError(f"{error.message}; nothing was imported.") from None
        for source in sources:
            turns = source.turns.count()
            linked = source.turns.filter(participant__isnull=False).count()
            self.stdout.write(
                f"{source.original_name}: {len(source.text)} characters, {turns} turn(s), "
                f"{linked} linked to participants"
            )
        self.stdout.write(f"Imported {len(sources)} source(s) into {study.slug}.")
