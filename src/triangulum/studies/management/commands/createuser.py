import getpass
import sys

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies.actions import StudyActionError, create_user

from ._actor import cli_actor


class Command(TriangulumCommand):
    help = (
        "Create a sign-in account. The password is checked against the password rules "
        "(length, similarity to the username, common passwords). Give it with "
        "--password-stdin (safest in scripts), --password, or type it when asked."
    )

    # Tests and callers of call_command may hand over a stream in place of standard input.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("username", help="the new account's username")
        parser.add_argument("--email", default="", help="the account's e-mail address (optional)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
        source.add_argument(
            "--password",
            metavar="P",
            help="the password (visible in the shell history and process list: "
            "prefer --password-stdin)",
        )

    def _password(self, options) -> str:
        if options["password_stdin"]:
            stdin = options.get("stdin") or sys.stdin
            return stdin.readline().rstrip("\r\n")
        if options["password"] is not None:
            return options["password"]
        if not sys.stdin.isatty():
            raise CommandError("No password given: use --password-stdin or --password.")
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ; nothing was created.")
        return first

    def handle(self, *args, **options):
        username = options["username"]
        password = self._password(options)
        if not password:
            raise CommandError("The password is empty; nothing was created.")
        try:
            user = create_user(
                actor=cli_actor("createuser"),
                username=username,
                password=password,
                email=options["email"],
            )
        except StudyActionError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Created user '{user.get_username()}'.")
