"""``triangulum export``: write a wave's answers, dictionary or paradata to a file."""

from __future__ import annotations

from pathlib import Path

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.fieldwork import actions, exports
from triangulum.fieldwork.models import Wave


class Command(TriangulumCommand):
    help = "Export a survey wave: " + ", ".join(exports.KINDS) + "."

    def add_arguments(self, parser):
        parser.add_argument("study", metavar="STUDY")
        parser.add_argument("number", type=int, metavar="WAVE")
        parser.add_argument("--format", dest="kind", choices=list(exports.KINDS), required=True)
        parser.add_argument("--out", required=True, help="file to write")

    def handle(self, *args, **options):
        from triangulum.studies.management.commands._actor import cli_actor

        wave = Wave.objects.filter(study__slug=options["study"], number=options["number"]).first()
        if wave is None:
            raise CommandError(f"no wave {options['number']} in study {options['study']!r}")
        content, rows = exports.build(wave, options["kind"])
        Path(options["out"]).write_bytes(content)
        actions.record_export(actor=cli_actor("export"), wave=wave, kind=options["kind"], rows=rows)
        self.stdout.write(f"Wrote {options['out']} ({rows} rows).")
