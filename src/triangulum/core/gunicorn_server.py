"""Several server processes behind one port, for PostgreSQL deployments (ADR 0027).

Gunicorn's master process binds the port and forks the workers; each worker serves
requests on a pool of threads (its ``gthread`` worker), as waitress does in the single
process case. The application is loaded before the fork so the workers share its
imported modules (and the objects ``serve`` froze out of the collector's reach).
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Application(BaseApplication):
    def __init__(self, application, settings: dict):
        self.application = application
        self.settings = settings
        super().__init__()

    def load_config(self):
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self):
        return self.application


def gunicorn_settings(*, host: str, port: int, workers: int, threads: int) -> dict:
    return {
        "bind": [f"{host}:{port}"],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        # A report build can take tens of seconds; the gthread worker keeps its heartbeat
        # from its main thread, so this only ends a worker that is truly stuck.
        "timeout": 300,
        "graceful_timeout": 10,
        "keepalive": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "triangulum",
    }


def serve_processes(application, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``application`` from ``workers`` processes until interrupted."""
    settings = gunicorn_settings(host=host, port=port, workers=workers, threads=threads)
    _Application(application, settings).run()
