import argparse
import csv
import json
import math
import textwrap

from triangulum.casework.agreement import (
    LEVELS,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from triangulum.core.commands import CommandError, TriangulumCommand

MISSING_MARKS = {"", "."}
CODER_HEADER_WORDS = {
    "coder",
    "coders",
    "rater",
    "raters",
    "observer",
    "observers",
    "annotator",
    "annotators",
    "judge",
    "judges",
    "name",
}

LAYOUT_HELP = """\
Layout of FILE.csv (UTF-8, a BOM is tolerated): one row per coder, one column per unit;
an empty cell or '.' is a missing value. Optionally the first column holds coder names and
the first row holds unit labels, e.g.

    coder,u1,u2,u3,u4
    A,1,2,.,3
    B,1,3,2,3

Without --header/--names the layout is detected: the first row is a header when its first
cell is a word such as 'coder', 'rater' or 'observer', or is empty above a column of names,
or when it holds text among the units while the rows below hold numbers (at the ordinal,
interval and ratio levels, any text there marks a header). The first column holds names when
the header says so, or when every row starts with a distinct non-numeric cell and (at the
nominal level) all other cells are numbers. Nominal data whose categories are words cannot
be told apart from names and labels: say --names and --header there. Messages count rows
and columns from 1, as a spreadsheet does.
"""


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


class Command(TriangulumCommand):
    help = (
        "Inter-coder agreement from a reliability-data CSV (one row per coder, one column per "
        "unit): Krippendorff's alpha at the chosen level, Cohen's kappa (unweighted) when there "
        "are exactly two coders, Fleiss' kappa when no value is missing."
    )
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Raw formatting keeps the layout example's lines; so the summary is wrapped here.
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.description = textwrap.fill(self.help, 88)
        parser.epilog = LAYOUT_HELP
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="the reliability data")
        parser.add_argument(
            "--level",
            choices=LEVELS,
            default="nominal",
            help="the level of measurement for Krippendorff's alpha (default nominal)",
        )
        parser.add_argument(
            "--header",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the first row is (or is not) a row of unit labels (default: detect)",
        )
        parser.add_argument(
            "--names",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the first column is (or is not) the coders' names (default: detect)",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object: alpha, level, cohen_kappa, fleiss_kappa, coders, units",
        )

    def handle(self, *args, **options):
        path, level = options["file"], options["level"]
        table = self._read(path, level, options["header"], options["names"])
        data = table["data"]
        try:
            alpha = krippendorff_alpha(data, level)
        except ValueError as error:  # only reached if the reading let a bad value through
            raise CommandError(f"{path}: {error}") from None
        cohen = cohen_kappa(data[0], data[1]) if len(data) == 2 else None
        complete = all(value is not None for row in data for value in row)
        fleiss = fleiss_kappa(data) if complete else None

        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "alpha": alpha,
                        "level": level,
                        "cohen_kappa": cohen.kappa if cohen else None,
                        "fleiss_kappa": fleiss,
                        "coders": len(data),
                        "units": len(data[0]),
                    }
                )
            )
            return
        self._print(path, level, table, alpha, cohen, fleiss, complete)

    def _read(self, path, level, header, names):
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                raw = list(csv.reader(handle))
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path}: not UTF-8 text (byte {error.start}); save the CSV as UTF-8"
            ) from None
        except csv.Error as error:
            raise CommandError(f"{path}: not a readable CSV file ({error})") from None

        # Keep each row's number in the file for messages; drop wholly blank rows.
        rows = [
            (number, [cell.strip() for cell in row])
            for number, row in enumerate(raw, start=1)
            if any(cell.strip() for cell in row)
        ]
        if not rows:
            raise CommandError(f"{path}: the file holds no data")
        numeric_level = level != "nominal"
        first_cell = rows[0][1][0]

        if header is None:
            names_below = len(rows) > 1 and all(
                row[0] and not _is_number(row[0]) for _, row in rows[1:]
            )
            header = (
                first_cell.casefold() in CODER_HEADER_WORDS
                or (first_cell == "" and names_below)
                or (
                    any(
                        cell not in MISSING_MARKS and not _is_number(cell)
                        for cell in rows[0][1][1:]
                    )
                    and (
                        numeric_level
                        or all(
                            cell in MISSING_MARKS or _is_number(cell)
                            for _, row in rows[1:]
                            for cell in row[1:]
                        )
                    )
                )
            )
        header_row = rows[0] if header else None
        body = rows[1:] if header else rows
        if not body:
            raise CommandError(f"{path}: there is a header row but no coder below it")

        if names is None:
            if header_row is not None and (
                first_cell.casefold() in CODER_HEADER_WORDS or first_cell == ""
            ):
                names = True
            else:
                starts = [row[0] for _, row in body]
                names = (
                    all(start and not _is_number(start) for start in starts)
                    and len(set(starts)) == len(starts)
                    and (
                        numeric_level
                        or all(
                            cell in MISSING_MARKS or _is_number(cell)
                            for _, row in body
                            for cell in row[1:]
                        )
                    )
                )
        skip = 1 if names else 0

        width = max(len(row) for _, row in body) - skip
        if header_row is not None:
            header_width = len(header_row[1]) - skip
            for number, row in body:
                if len(row) - skip > header_width and any(row[skip + header_width :]):
                    raise CommandError(
                        f"{path}, row {number}: {len(row) - skip} units, but the header "
                        f"row labels {header_width}"
                    )
            width = header_width
        if width < 1:
            raise CommandError(f"{path}: no unit columns")
        if len(body) < 2:
            raise CommandError(f"{path}: agreement needs at least two coders (rows), found 1")

        coder_names = []
        seen = {}
        for number, row in body:
            name = row[0] if names else f"coder {len(coder_names) + 1}"
            if names and name in seen:
                raise CommandError(
                    f'{path}, row {number}, column 1: coder "{name}" already appears on '
                    f"row {seen[name]}"
                )
            seen[name] = number
            coder_names.append(name)

        cells = [
            (number, [row[skip + i] if skip + i < len(row) else "" for i in range(width)])
            for number, row in body
        ]
        present = [cell for _, row in cells for cell in row if cell not in MISSING_MARKS]
        as_numbers = numeric_level or all(_is_number(cell) for cell in present)
        data = []
        for number, row in cells:
            values = []
            for i, cell in enumerate(row):
                column = skip + i + 1
                if cell in MISSING_MARKS:
                    values.append(None)
                    continue
                if not as_numbers:
                    values.append(cell)
                    continue
                if not _is_number(cell):
                    label = f' ("{header_row[1][column - 1]}")' if header_row else ""
                    raise CommandError(
                        f'{path}, row {number}, column {column}{label}: "{cell}" is not a '
                        f"number, which the {level} level needs (use --level nominal for "
                        "categories)"
                    )
                value = float(cell)
                if level == "ratio" and value < 0:
                    raise CommandError(
                        f'{path}, row {number}, column {column}: "{cell}" is negative; the '
                        "ratio level needs values with a true zero"
                    )
                values.append(value)
            data.append(values)
        return {"data": data, "coders": coder_names}

    def _print(self, path, level, table, alpha, cohen, fleiss, complete):
        write = self.stdout.write
        data = table["data"]
        write(f"Inter-coder agreement for {path}")
        write(f"{len(data)} coders ({', '.join(table['coders'])}), {len(data[0])} units\n")
        write(
            f"Krippendorff's alpha ({level}): "
            + (f"{alpha:.4f}" if alpha is not None else "undefined (no variation to compare)")
        )
        if cohen is None:
            write("Cohen's kappa: not computed (it needs exactly two coders)")
        elif cohen.kappa is None:
            write(f"Cohen's kappa: undefined over {cohen.units} units both coded")
        else:
            write(
                f"Cohen's kappa (unweighted): {cohen.kappa:.4f} over {cohen.units} units both "
                f"coded (observed agreement {cohen.p_o:.4f}, chance {cohen.p_e:.4f})"
            )
        if not complete:
            write("Fleiss' kappa: not computed (some values are missing)")
        elif fleiss is None:
            write("Fleiss' kappa: undefined (every value is the same)")
        else:
            write(f"Fleiss' kappa: {fleiss:.4f}")
