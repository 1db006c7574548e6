"""Shared pieces for Triangulum's management commands."""

from django.core.management.base import BaseCommand, CommandError  # noqa: F401


class TriangulumCommand(BaseCommand):
    """A command that accepts ``--dir`` (already applied by ``triangulum.cli``)."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--dir",
            metavar="DIR",
            help="the study folder holding the SQLite database (default ./triangulum-demo)",
        )
        return parser
