"""``triangulum qdpx``: REFI-QDA exchange files (``.qdpx``, ``.qde``, ``.qdc``)."""

import argparse
import getpass
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
    help = (
        "REFI-QDA exchange files (.qdpx, .qde, .qdc): inspect one, import one into a study, "
        "or export a study."
    )

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

        load = actions.add_parser(
            "import",
            help="import a project or codebook into a study",
            description="Import a .qdpx, .qde or .qdc into a study: codes (a new codebook "
            "version), plain-text sources, codings with their coders (inactive placeholder "
            "accounts refi-NAME), cases with variables, notes as memos, and sets. A file "
            "missing source texts is refused, listing them, unless --accept-missing-sources.",
        )
        load.add_argument("file", metavar="FILE", type=Path)
        load.add_argument("--study", required=True, metavar="SLUG")
        load.add_argument(
            "--accept-missing-sources",
            action="store_true",
            help="import everything else when some source texts are missing",
        )
        load.add_argument(
            "--case-kind",
            default="participant",
            choices=("site", "participant", "initiative"),
            help="the kind of case the file's cases become (default participant)",
        )
        load.add_argument("--crlf-counts-as", type=int, choices=(1, 2), default=2)
        load.add_argument("--json", action="store_true", help="print JSON instead of text")
        load.add_argument("--dir", help=argparse.SUPPRESS)

        export = actions.add_parser(
            "export",
            help="export a study as a .qdpx (valid against Project.xsd)",
            description="Write a study's codes, sources, codings, users, cases, memos and "
            "sets as a REFI-QDA .qdpx.",
        )
        export.add_argument("--study", required=True, metavar="SLUG")
        export.add_argument("out", metavar="OUT.qdpx", type=Path)
        export.add_argument("--dir", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["action"] == "inspect":
            self.inspect(options["file"], as_json=options["json"], crlf=options["crlf_counts_as"])
        elif options["action"] == "import":
            self.import_file(options)
        elif options["action"] == "export":
            self.export_study(options)

    @staticmethod
    def _actor(action: str) -> str:
        try:
            who = getpass.getuser()
        except (OSError, KeyError):
            who = "unknown"
        return f"triangulum qdpx {action} (as {who})"

    @staticmethod
    def _study(slug: str):
        from triangulum.studies.models import Study

        study = Study.objects.filter(slug=slug).first()
        if study is None:
            known = ", ".join(Study.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"no study with slug {slug!r} (studies: {known})")
        return study

    def import_file(self, options) -> None:
        from triangulum.casework.exchange import ExchangeError, import_project

        study = self._study(options["study"])
        path = options["file"]
        try:
            report = import_project(
                study=study,
                path=path,
                actor=self._actor("import"),
                accept_missing_sources=options["accept_missing_sources"],
                case_kind=options["case_kind"],
                crlf_counts_as=options["crlf_counts_as"],
            )
        except (RefiError, ExchangeError) as error:
            raise CommandError(f"{path.name}: {error}") from error
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
            return
        counts = report.counts
        self.stdout.write(
            f"Imported {path.name} into {study.slug} as codebook version "
            f"{report.codebook_version}: "
            + ", ".join(f"{name} {counts[name]}" for name in sorted(counts))
        )
        for heading, items in (
            ("Placeholder accounts created", report.placeholders_created),
            ("Source texts missing (not imported)", report.missing_sources),
            ("Not imported", report.not_imported),
            ("Adjusted", report.adjusted),
        ):
            if items:
                self.stdout.write(f"{heading} ({len(items)}):")
                for item in items:
                    self.stdout.write(f"  - {item}")

    def export_study(self, options) -> None:
        from triangulum.casework.exchange import export_qdpx

        study = self._study(options["study"])
        out = options["out"]
        try:
            export_qdpx(study, out, actor=self._actor("export"))
        except RefiError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Wrote {out} ({out.stat().st_size} bytes).")

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
