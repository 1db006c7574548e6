import csv
import json
import math

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.fieldwork.aapor import (
    BUCKET_LABELS,
    BUCKETS,
    RATE_NAMES,
    DispositionError,
    compute_rates,
)


class Command(TriangulumCommand):
    help = (
        "AAPOR outcome rates (RR1–RR6, COOP1–4, REF1–3, CON1–3, LOC1–2) from a CSV of final "
        "dispositions, one case per row. The CSV needs a header row; the disposition is read "
        "from the column named 'disposition', or the only column, or --column NAME. A "
        "disposition is an AAPOR final code (1.1, 1.2, 2.111, 2.20, 3.10, 4.10 …; deeper "
        "sub-codes count with their parent) or a bucket letter: I, P, R, NC, O, UH, UO, NE. "
        "Row numbers in messages count the header as row 1, as a spreadsheet does."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="the dispositions (UTF-8 CSV)")
        parser.add_argument("--column", metavar="NAME", help="the column holding dispositions")
        e_choice = parser.add_mutually_exclusive_group()
        e_choice.add_argument(
            "--e",
            type=float,
            metavar="VALUE",
            help="the estimated eligible share of unknown-eligibility cases (0 to 1)",
        )
        e_choice.add_argument(
            "--e-method",
            choices=["proportional"],
            help="estimate e from the data (the default: proportional allocation, the "
            "eligible share of cases whose eligibility is known)",
        )
        parser.add_argument(
            "--weight", metavar="COLUMN", help="a column of case weights to sum instead of counting"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object keyed RR1 … LOC2 (null where a denominator is zero)",
        )

    def handle(self, *args, **options):
        path = options["file"]
        e = options["e"]
        if e is not None and not (math.isfinite(e) and 0 <= e <= 1):
            raise CommandError(f"--e must be between 0 and 1, got {e}")
        dispositions, weights, row_numbers = self._read(path, options["column"], options["weight"])
        try:
            result = compute_rates(dispositions, weights=weights, e=e, e_method=options["e_method"])
        except DispositionError as error:
            # Weights were checked while reading, so this is a disposition.
            raise CommandError(f"{path}, row {row_numbers[error.position]}: {error}") from None

        if options["json"]:
            self.stdout.write(json.dumps({name: result.rates[name] for name in RATE_NAMES}))
            return
        self._print_table(path, result, weighted=weights is not None)

    def _read(self, path, column, weight_column):
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path}: not UTF-8 text (byte {error.start}); save the CSV as UTF-8"
            ) from None
        except csv.Error as error:
            raise CommandError(f"{path}: not a readable CSV file ({error})") from None
        if not rows or not any(cell.strip() for cell in rows[0]):
            raise CommandError(f"{path}: the first row must be a header naming the columns")

        header = [cell.strip() for cell in rows[0]]
        folded = [cell.casefold() for cell in header]
        disposition_index = self._column_index(path, header, folded, column)
        weight_index = None
        if weight_column:
            if weight_column.casefold() not in folded:
                raise CommandError(
                    f'{path}: no column "{weight_column}" for the weights '
                    f"(columns: {', '.join(header)})"
                )
            weight_index = folded.index(weight_column.casefold())

        dispositions, weights, row_numbers = [], [], []
        for row_number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if disposition_index >= len(row) or not row[disposition_index].strip():
                raise CommandError(f"{path}, row {row_number}: no disposition")
            dispositions.append(row[disposition_index])
            row_numbers.append(row_number)
            if weight_index is not None:
                cell = row[weight_index].strip() if weight_index < len(row) else ""
                try:
                    weight = float(cell)
                except ValueError:
                    weight = math.nan
                if not math.isfinite(weight) or weight < 0:
                    raise CommandError(
                        f'{path}, row {row_number}, column {header[weight_index]}: weight "{cell}" '
                        "is not a non-negative number"
                    )
                weights.append(weight)
        return dispositions, (weights if weight_index is not None else None), row_numbers

    @staticmethod
    def _column_index(path, header, folded, column):
        if column:
            if column.casefold() not in folded:
                raise CommandError(f'{path}: no column "{column}" (columns: {", ".join(header)})')
            return folded.index(column.casefold())
        if "disposition" in folded:
            return folded.index("disposition")
        if len(header) == 1:
            return 0
        raise CommandError(
            f'{path}: no column named "disposition" among {", ".join(header)}; '
            "name the column with --column NAME"
        )

    def _print_table(self, path, result, *, weighted):
        total = sum(result.counts.values())
        unit = "summed weight" if weighted else "cases"
        write = self.stdout.write
        write(f"AAPOR outcome rates for {path}")
        write(f"{_number(total, weighted)} {unit} in all\n")
        write(f"{'Bucket':<6} {'Meaning':<32} {'Count':>10}")
        for bucket in BUCKETS:
            write(
                f"{bucket:<6} {BUCKET_LABELS[bucket]:<32} {_number(result.counts[bucket], weighted):>10}"
            )
        if result.e is None:
            e_text = "undefined (no case of known eligibility)"
        else:
            e_text = f"{result.e:.4f}"
        method = "given" if result.e_method == "given" else "proportional allocation"
        write(f"\ne = {e_text} ({method})\n")
        write(f"{'Rate':<6} {'Value':>8}")
        for name in RATE_NAMES:
            value = result.rates[name]
            shown = (
                f"{value:>8.4f}"
                if value is not None
                else "    none  (denominator zero or undefined)"
            )
            write(f"{name:<6} {shown}")


def _number(value, weighted):
    return f"{value:.2f}" if weighted else f"{value:.0f}"
