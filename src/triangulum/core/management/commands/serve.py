import gc
import os
import socket

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from triangulum.core.commands import CommandError, TriangulumCommand


class Command(TriangulumCommand):
    help = (
        "Serve the Triangulum web app with a production-grade WSGI server (waitress; static "
        "files by WhiteNoise), on the demo database by default."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
        )
        parser.add_argument(
            "--threads", type=int, default=8, help="threads per server process (default 8)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help=(
                "server processes (default: 1 on SQLite; on PostgreSQL one per core, at most "
                "4). More than one needs PostgreSQL and a Unix-like system (ADR 0027)"
            ),
        )

    def handle(self, *args, **options):
        database = settings.DATABASES["default"]
        if (
            database["ENGINE"] == "django.db.backends.sqlite3"
            and not settings.DATA_DIR.joinpath("triangulum.sqlite3").exists()
        ):
            raise CommandError(
                f"No Triangulum database in {settings.DATA_DIR}. Run 'triangulum demo' (or "
                "'triangulum init --dir DIR') first, or pass --dir."
            )
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database needs migrating: run 'triangulum migrate' with the same --dir."
            )
        connection.close()
        workers = self._workers(database, options["workers"])
        self._check_port_free(options["host"], options["port"])

        from django.urls import get_resolver
        from waitress import serve

        from triangulum.wsgi import application

        # Import every view module now (not on the first request), then move everything
        # loaded so far out of the garbage collector's reach: the long-lived module objects
        # are then never rescanned, which otherwise adds collector pauses of tens of
        # milliseconds to requests that build many objects (case-study retrieval, reports).
        get_resolver().url_patterns  # noqa: B018 - imports the URL modules
        gc.collect()
        gc.freeze()

        url = f"http://{options['host']}:{options['port']}/"
        processes = (
            f"{workers} process{'' if workers == 1 else 'es'} × {options['threads']} threads"
        )
        self.stdout.write(
            f"Triangulum on {url} (database: {database['NAME']}; {processes}). Ctrl+C stops it."
        )
        self.stdout.flush()
        if workers == 1:
            serve(
                application,
                host=options["host"],
                port=options["port"],
                threads=options["threads"],
                ident="triangulum",
            )
        else:
            from triangulum.core.gunicorn_server import serve_processes

            serve_processes(
                application,
                host=options["host"],
                port=options["port"],
                workers=workers,
                threads=options["threads"],
            )

    def _workers(self, database: dict, asked: int | None) -> int:
        sqlite = database["ENGINE"] == "django.db.backends.sqlite3"
        if asked is None:
            # One Python process runs one request's Python code at a time, however many
            # threads it has; on PostgreSQL a second process uses the other core (ADR 0027).
            return 1 if sqlite else max(1, min(os.cpu_count() or 1, 4))
        if asked < 1:
            raise CommandError("--workers must be at least 1.")
        if asked > 1 and sqlite:
            raise CommandError(
                "--workers above 1 needs PostgreSQL: on SQLite the server's writers queue on a "
                "lock inside one process (ADR 0026). Set TRIANGULUM_DATABASE_URL, or use "
                "--workers 1."
            )
        if asked > 1 and not hasattr(os, "fork"):
            raise CommandError("--workers above 1 needs a Unix-like system; use --workers 1.")
        return asked

    def _check_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise CommandError(
                    f"Cannot listen on {host}:{port}: {error}. Try --port."
                ) from error
