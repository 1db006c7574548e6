from django.conf import settings
from django.core.management import call_command

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies import actions

from ._actor import cli_actor


def load_organisations(actor: str) -> str:
    """Load the NHS organisation lists, where the organisations app provides a loader."""
    # Imported here so that init still runs (and says so) in a build without the loader.
    try:
        from triangulum.organisations.actions import load_nhs_organisations
    except ImportError:
        return "skipped: this build has no NHS organisation loader"
    result = load_nhs_organisations(actor=actor)
    counts = result.get("organisations_by_type") if isinstance(result, dict) else None
    if isinstance(counts, dict):
        return "loaded " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return "loaded"


class Command(TriangulumCommand):
    help = (
        "Set up a study folder: create it, create or upgrade the database, load the NHS "
        "organisation lists and, with --with-builtin-study, install the built-in study. "
        "Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-builtin-study",
            action="store_true",
            help="also install (or update) the built-in study ccg-clinical-leadership",
        )
        parser.add_argument(
            "--skip-organisations",
            action="store_true",
            help="do not load the NHS organisation lists (for example, offline without them)",
        )

    def handle(self, *args, **options):
        actor = cli_actor("init")
        data_dir = settings.DATA_DIR
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot create the study folder {data_dir}: {error}") from None
        self.stdout.write(f"Study folder: {data_dir}")

        self.stdout.write("Database: applying migrations…")
        call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout)
        self.stdout.write("Database: up to date.")

        if options["skip_organisations"]:
            self.stdout.write("NHS organisations: skipped (--skip-organisations).")
        else:
            self.stdout.write("NHS organisations: loading…")
            self.stdout.write(f"NHS organisations: {load_organisations(actor)}.")

        slug = None
        if options["with_builtin_study"]:
            study = actions.install_builtin_study(actor=actor)
            slug = study.slug
            self.stdout.write(f"Built-in study '{slug}': installed.")

        folder = f" --dir {data_dir}"
        self.stdout.write("\nNext steps:")
        self.stdout.write(f"  triangulum createuser YOURNAME --password-stdin{folder}")
        if slug:
            self.stdout.write(f"  triangulum study add-member {slug} YOURNAME --role lead{folder}")
        else:
            self.stdout.write(
                f"  triangulum study create --slug my-study --title 'My study'{folder}   "
                f"(or: triangulum study install-builtin{folder})"
            )
            self.stdout.write(
                f"  triangulum study add-member my-study YOURNAME --role lead{folder}"
            )
        self.stdout.write(f"  triangulum serve{folder}")
