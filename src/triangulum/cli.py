"""The ``triangulum`` command: one entry point over Django's management commands.

``--dir DIR`` is read here, before Django starts, because it decides which database
the settings point at.
"""

import os
import sys
import textwrap

DEFAULT_DIR = "triangulum-demo"


def _dir_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--dir" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--dir="):
            return arg.split("=", 1)[1]
    return None


def _print_overview() -> None:
    from django.core.management import get_commands, load_command_class

    print("usage: triangulum COMMAND [options]   (triangulum COMMAND --help for each)\n")
    print("Triangulum: a mixed-methods research workbench.\n")
    print("Commands:")
    ours = sorted(
        (name, app) for name, app in get_commands().items() if app.startswith("triangulum.")
    )
    for name, app in ours:
        summary = (load_command_class(app, name).help or "").strip().splitlines()
        line = summary[0] if summary else ""
        print(textwrap.fill(line, 100, initial_indent=f"  {name:<12} ", subsequent_indent=" " * 15))
    print(
        "\nCommon options: --dir DIR (the study folder holding the SQLite database; default "
        f"./{DEFAULT_DIR}). Set TRIANGULUM_DATABASE_URL=postgres://… to use PostgreSQL.\n"
        "Django's own commands (migrate, check, shell, …) work too: triangulum migrate --help."
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen_dir = _dir_from_argv(argv)
    if chosen_dir:
        os.environ["TRIANGULUM_DIR"] = chosen_dir
    else:
        os.environ.setdefault("TRIANGULUM_DIR", DEFAULT_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")

    import django
    from django.core.management import execute_from_command_line

    django.setup()
    if not argv or argv[0] in {"-h", "--help", "help"} and len(argv) == 1:
        _print_overview()
        return 0
    try:
        execute_from_command_line(["triangulum", *argv])
    except BrokenPipeError:
        # The reader went away (`triangulum frame list | head`): stop quietly, as Unix
        # tools do. Silence both streams before this traceback is released: releasing it
        # closes a half-read query whose connection Django has already closed, which
        # Python would otherwise report on stderr.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())
        return 141
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
