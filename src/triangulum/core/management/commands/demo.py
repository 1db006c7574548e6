import shutil
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from tqdm import tqdm

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.core.demo_registry import DemoContext, collect_steps

# Only these are removed on a rebuild, so that `--dir` pointed at a folder holding
# anything else never loses it.
DEMO_FILES = ("triangulum.sqlite3", "triangulum.sqlite3-wal", "triangulum.sqlite3-shm")
DEMO_FOLDERS = ("outputs", "files")


class Command(TriangulumCommand):
    help = (
        "Build a fresh demo of the built-in CCG study in DIR (default ./triangulum-demo): a "
        "SQLite database with the real 2013–2022 NHS organisations, the study, its simulated "
        "data and every phase built so far, with outputs under DIR/outputs/. Running it again "
        "rebuilds cleanly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2013, help="seed for every simulated draw")

    def handle(self, *args, **options):
        directory = Path(settings.DATA_DIR)
        started = time.monotonic()
        if connection.vendor == "sqlite":
            connection.close()
            self._clear(directory)
        elif connection.introspection.table_names():
            # A server database may hold a team's real work: the demo only ever builds into
            # an empty one, and never deletes anything there.
            raise CommandError(
                f"The database {connection.settings_dict['NAME']!r} is not empty. triangulum "
                "demo builds only into an empty database: create a new one for it, or unset "
                "TRIANGULUM_DATABASE_URL to use SQLite in --dir."
            )
        else:
            self._clear_outputs(directory)
        outputs = directory / "outputs"
        outputs.mkdir(parents=True, exist_ok=True)

        self.stdout.write(f"Building the Triangulum demo in {directory}")
        call_command("migrate", verbosity=0, interactive=False)
        context = DemoContext(directory=directory, outputs=outputs, seed=options["seed"])
        steps = collect_steps()
        # A progress bar on a terminal (tqdm, on stderr); plain lines in logs and pipes.
        bar = tqdm(total=len(steps), unit="step", disable=None, leave=False, file=sys.stderr)
        for number, step in enumerate(steps, start=1):
            step_started = time.monotonic()
            bar.set_description(step.name)
            step.run(context)
            bar.update()
            self.stdout.write(
                f"[{number}/{len(steps)}] {step.name} … done "
                f"({time.monotonic() - step_started:.1f} s)"
            )
        bar.close()
        self._write_index(context)
        self._summarise(context, directory, time.monotonic() - started)

    def _clear(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in DEMO_FILES:
            (directory / name).unlink(missing_ok=True)
        self._clear_outputs(directory)

    def _clear_outputs(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in DEMO_FOLDERS:
            if (directory / name).is_dir():
                shutil.rmtree(directory / name)

    def _write_index(self, context: DemoContext) -> None:
        lines = [
            "# Triangulum demo outputs",
            "",
            "SIMULATED DATA: the organisations are the real NHS bodies of 2013–2022, but every",
            "person, answer, call, transcript and coding in this demo is simulated.",
            "",
        ]
        for description, path in context.made:
            where = f" — `{path.relative_to(context.outputs)}`" if path else ""
            lines.append(f"- {description}{where}")
        (context.outputs / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _summarise(self, context: DemoContext, directory: Path, seconds: float) -> None:
        write = self.stdout.write
        write("")
        write(
            self.style.SUCCESS(f"Demo built in {seconds:.0f} s (simulated data, clearly labelled).")
        )
        write("")
        write("What was made:")
        for description, path in context.made:
            write(f"  - {description}" + (f"\n      {path}" if path else ""))
        write("")
        write(f"Database: {connection.settings_dict['NAME']}")
        write(f"Outputs:  {context.outputs}")
        users = context.shared.get("demo_users", [])
        password = context.shared.get("demo_password")
        write("")
        write("Open the web app:")
        dir_option = "" if directory == Path("triangulum-demo").resolve() else f" --dir {directory}"
        write(f"  triangulum serve{dir_option}      (or: .venv/bin/triangulum serve{dir_option})")
        write("  then open http://127.0.0.1:8000/ and sign in")
        if users and password:
            write(f"  as one of: {', '.join(users)} — demo password: {password}")
            write("  (the demo accounts exist only in this demo database)")
