"""``triangulum frame list``: print a sampling frame of NHS organisations."""

import argparse
import json
from datetime import date

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Sum

from triangulum.core.commands import CommandError, TriangulumCommand

from ... import queries


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2013-04-01"
        ) from None


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return number


class Command(TriangulumCommand):
    help = "List NHS organisations (CCGs, ICBs, sub-ICB locations, HWBs, GP practices) as a sampling frame."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        listing = actions.add_parser(
            "list",
            help="print the organisations of one type, open on a date, as CSV or JSON",
            description="Print the organisations of one type (optionally open on a date) as CSV or JSON.",
        )
        listing.add_argument("--type", dest="org_type", required=True, choices=queries.ORG_TYPES)
        listing.add_argument(
            "--open-on",
            type=_iso_date,
            metavar="YYYY-MM-DD",
            help="only organisations open on this day (the vintage)",
        )
        listing.add_argument(
            "--region", help="an NHS England region's ODS code or name, e.g. Y54 or London"
        )
        listing.add_argument(
            "--min-patients", type=_count, metavar="N", help="at least N registered patients"
        )
        listing.add_argument(
            "--max-patients", type=_count, metavar="N", help="at most N registered patients"
        )
        listing.add_argument("--search", help="part of a name, or the start of a code")
        listing.add_argument(
            "--sort",
            default="name",
            choices=[*queries.SORT_FIELDS, *(f"-{k}" for k in queries.SORT_FIELDS)],
            metavar="KEY",
            help=f"order by one of {', '.join(queries.SORT_FIELDS)}; prefix '-' to reverse "
            "(write it as --sort=-registered_patients)",
        )
        output = listing.add_mutually_exclusive_group()
        output.add_argument(
            "--count", action="store_true", help="print only the number of organisations"
        )
        output.add_argument(
            "--total",
            choices=queries.TOTAL_FIELDS,
            metavar="FIELD",
            help=f"print only the sum of FIELD ({', '.join(queries.TOTAL_FIELDS)})",
        )
        output.add_argument(
            "--format", choices=["csv", "json"], default="csv", help="output format (default csv)"
        )
        # Accept --dir after the sub-command too (``triangulum`` has already applied it).
        listing.add_argument("--dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        try:
            empty = queries.organisation_count() == 0
        except DatabaseError:
            empty = True
        if empty:
            raise CommandError(
                f"No organisations in the database ({self._database_label()}). Load them first: "
                f"`triangulum init --dir {settings.DATA_DIR}` (or `triangulum demo --dir {settings.DATA_DIR}`)."
            )
        organisations = queries.frame(
            options["org_type"],
            vintage=options["open_on"],
            region=options["region"],
            min_patients=options["min_patients"],
            max_patients=options["max_patients"],
            search=options["search"],
            order_by=options["sort"],
        )
        if options["count"]:
            self.stdout.write(str(organisations.count()))
        elif options["total"]:
            total = organisations.aggregate(total=Sum(options["total"]))["total"]
            self.stdout.write(str(total or 0))
        elif options["format"] == "json":
            self.stdout.write(
                json.dumps(list(queries.export_rows(organisations)), indent=1, ensure_ascii=False)
            )
        else:
            queries.write_csv(organisations, self.stdout)

    @staticmethod
    def _database_label() -> str:
        database = settings.DATABASES["default"]
        if "sqlite" in database["ENGINE"]:
            return str(database["NAME"])
        return f"{database.get('HOST') or 'localhost'}/{database.get('NAME')}"
