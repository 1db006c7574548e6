import argparse

from django.core.management.base import CommandParser

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies import actions
from triangulum.studies.models import Role, Study
from triangulum.studies.protocol import render_markdown
from triangulum.studies.queries import protocol_of

from ._actor import cli_actor


class Command(TriangulumCommand):
    help = (
        "Manage studies: create one, list them, show one's protocol, add a member, "
        "or install the built-in CCG clinical leadership study."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=CommandParser
        )

        create = commands.add_parser("create", help="create an empty study")
        create.add_argument(
            "--slug", required=True, help="short name used in addresses, e.g. my-study"
        )
        create.add_argument("--title", required=True, help="the study's full title")

        commands.add_parser("list", help="list the studies with their member counts")

        show = commands.add_parser("show", help="print a study's protocol as Markdown")
        show.add_argument("slug", metavar="SLUG", help="the study's slug")

        add_member = commands.add_parser(
            "add-member", help="give an existing user a role in a study"
        )
        add_member.add_argument("slug", metavar="SLUG", help="the study's slug")
        add_member.add_argument("username", metavar="USERNAME", help="an existing account")
        add_member.add_argument(
            "--role", required=True, choices=Role.values, help="the member's role in the study"
        )

        install = commands.add_parser(
            "install-builtin",
            help="install (or update in place) the built-in study ccg-clinical-leadership",
        )
        install.add_argument(
            "--simulated",
            action="store_true",
            help="mark the study as holding simulated records (as the demo does)",
        )

        for subparser in commands.choices.values():
            # Accept the study folder after the action too (triangulum study list --dir X);
            # SUPPRESS keeps the value given before the action when none comes after.
            subparser.add_argument(
                "--dir", metavar="DIR", default=argparse.SUPPRESS, help="the study folder"
            )

    def handle(self, *args, **options):
        handler = getattr(self, "handle_" + options["action"].replace("-", "_"))
        try:
            handler(options)
        except actions.StudyActionError as error:
            raise CommandError(error.message) from None

    def _study(self, slug: str) -> Study:
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            known = ", ".join(Study.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No study with slug '{slug}' (studies: {known}).")
        return study

    def handle_create(self, options):
        study = actions.create_study(
            actor=cli_actor("study create"), slug=options["slug"], title=options["title"]
        )
        self.stdout.write(
            f"Created study '{study.slug}'. Add a lead next: "
            f"triangulum study add-member {study.slug} USERNAME --role lead"
        )

    def handle_list(self, options):
        studies = Study.objects.order_by("slug")
        if not studies:
            self.stdout.write("No studies yet. Try: triangulum study install-builtin")
            return
        for study in studies:
            flags = [
                f
                for f, on in (("built-in", study.is_builtin), ("simulated", study.is_simulated))
                if on
            ]
            members = study.memberships.count()
            extra = f" [{', '.join(flags)}]" if flags else ""
            self.stdout.write(f"{study.slug}\t{study.title}\t{members} member(s){extra}")

    def handle_show(self, options):
        study = self._study(options["slug"])
        note = "Simulated study (demo records)." if study.is_simulated else ""
        self.stdout.write(
            render_markdown(protocol_of(study, with_status=True), note=note), ending=""
        )

    def handle_add_member(self, options):
        study = self._study(options["slug"])
        membership = actions.add_member(
            actor=cli_actor("study add-member"),
            study=study,
            username=options["username"],
            role=options["role"],
        )
        self.stdout.write(
            f"Added {membership.user.get_username()} to {study.slug} as {membership.get_role_display()}."
        )

    def handle_install_builtin(self, options):
        existed = Study.objects.filter(slug="ccg-clinical-leadership").exists()
        study = actions.install_builtin_study(
            actor=cli_actor("study install-builtin"), simulated=options["simulated"]
        )
        verb = "Updated" if existed else "Installed"
        self.stdout.write(
            f"{verb} the built-in study '{study.slug}': {study.research_questions.count()} research "
            f"questions, {study.phases.count()} phases."
        )
        if not study.memberships.exists():
            self.stdout.write(
                f"It has no members yet: triangulum study add-member {study.slug} USERNAME --role lead"
            )
