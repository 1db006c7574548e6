"""``triangulum qdpx``: REFI-QDA exchange files (``.qdpx``, ``.qde``, ``.qdc``)."""

import argparse
import json
from pathlib import Path

from triangulum.casework.refi import RefiError, read_refi
from triangulum.core.commands import CommandError, TriangulumCommand

_KIND_HEADINGS = {
    "nonstandard": "Deviations from the REFI-QDA standard (read anyway)",
    "missing": "Source texts missing",
    "not_imported": "Content Triangulum does not import",
}


class Command(TriangulumCommand):
    help = "Inspect REFI-QDA exchange files (.qdpx, .qde, .qdc): counts and every deviation found."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        inspect = actions.add_parser(
            "inspect",
            help="print what the file holds and every deviation from the standard",
            description="Print what a .qdpx, .qde or .qdc holds (codes, sources, selections, "
            "codings, users, cases, variables, notes, sets) and every deviation from the "
            "REFI-QDA standard found. Exits with status 1, naming line and column, for a "
            "file that is not well-formed.",
        )
        inspect.add_argument("file", metavar="FILE", type=Path)
        inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
        inspect.add_argument(
            "--crlf-counts-as",
            type=int,
            choices=(1, 2),
            default=2,
            help="how the file's selection offsets count a CRLF line ending (default 2, "
            "the standard's reading)",
        )
        # Accepted here too so `--dir` may follow the action; inspecting needs no database.
        inspect.add_argument("--dir", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["action"] == "inspect":
            self.inspect(options["file"], as_json=options["json"], crlf=options["crlf_counts_as"])

    def inspect(self, path: Path, *, as_json: bool, crlf: int) -> None:
        try:
            project = read_refi(path, crlf_counts_as=crlf)
        except RefiError as error:
            raise CommandError(str(error)) from error
        counts = project.counts()
        if as_json:
            report = {
                "file": str(path),
                "kind": project.kind,
                "name": project.name,
                "origin": project.origin,
                "counts": counts,
                "deviations": [
                    {"kind": d.kind, "location": d.location, "message": d.message}
                    for d in project.deviations
                ],
            }
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
            return
        label = "codebook" if project.kind == "codebook" else "project"
        origin = f" from {project.origin}" if project.origin else ""
        self.stdout.write(f"{path.name}: REFI-QDA {label} {project.name!r}{origin}")
        self.stdout.write(
            f"  users {counts['users']}, codes {counts['codes']}, sources {counts['sources']} "
            f"({counts['text_sources']} plain text, {counts['missing_texts']} with text missing), "
            f"selections {counts['selections']}, codings {counts['codings']}"
        )
        self.stdout.write(
            f"  cases {counts['cases']}, variables {counts['variables']}, "
            f"notes {counts['notes']}, sets {counts['sets']}"
        )
        if not project.deviations:
            self.stdout.write("No deviations from the standard found.")
        for kind, heading in _KIND_HEADINGS.items():
            found = [d for d in project.deviations if d.kind == kind]
            if found:
                self.stdout.write(f"{heading} ({len(found)}):")
                for deviation in found:
                    self.stdout.write(f"  - {deviation}")
