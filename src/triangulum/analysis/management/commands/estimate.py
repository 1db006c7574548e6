import json
from pathlib import Path

from triangulum.analysis.estimation import (
    STATISTICS,
    Design,
    EstimationError,
    estimate,
    parse_margin,
)
from triangulum.core.commands import CommandError, TriangulumCommand

READING_NOTES = """\
FILE.csv has a header row; 'NA' and empty cells are missing. Rows are counted from 1 after
the header (data row 1 is line 2 of the file). --fpc takes population counts (stratum size
in PSUs; for a second stage, the number of units in each PSU), one column per stage. PSU
labels are taken within stratum. Variance is Taylor linearisation as in R's survey package;
intervals use t on the design degrees of freedom (logit for proportions, Woodruff for
quantiles). A stratum with a single PSU is refused, as R does by default.
"""


def _columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


class Command(TriangulumCommand):
    help = (
        "Design-based estimate (mean, total, proportion or quantile) of one column of a survey "
        "CSV, with strata, clusters, weights, fpc, a domain and raking; prints the estimate, "
        "its standard error and confidence interval."
    )
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = READING_NOTES
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "file", metavar="FILE.csv", help="the survey data, one row per respondent"
        )
        parser.add_argument(
            "--y",
            required=True,
            metavar="COLUMN",
            help="the column to estimate (for a proportion: a 0/1 column, or COLUMN=VALUE)",
        )
        parser.add_argument("--strata", metavar="C", help="the stratum column")
        parser.add_argument(
            "--cluster",
            metavar="C[,C2]",
            help="first-stage cluster (PSU) column, then second-stage",
        )
        parser.add_argument("--weights", metavar="C", help="the sampling-weight column")
        parser.add_argument(
            "--fpc", metavar="C[,C2]", help="population-count column(s) for the fpc, one per stage"
        )
        parser.add_argument(
            "--domain", metavar="COLUMN=VALUE", help="estimate for this subpopulation only"
        )
        parser.add_argument(
            "--rake",
            action="append",
            default=[],
            metavar="COLUMN=LEVEL:TOTAL,LEVEL:TOTAL",
            help="rake the weights to these population totals (repeat for each margin)",
        )
        parser.add_argument("--statistic", choices=STATISTICS, default="mean", help="default mean")
        parser.add_argument(
            "--quantile", type=float, default=0.5, help="the quantile for --statistic quantile"
        )
        parser.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print a JSON object with estimate, se, ci_low, ci_high, n (and statistic, df, method)",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            design = Design(
                strata=options["strata"],
                clusters=_columns(options["cluster"]),
                weights=options["weights"],
                fpc=_columns(options["fpc"]),
            )
            margins = dict(parse_margin(text) for text in options["rake"])
            if len(margins) != len(options["rake"]):
                raise EstimationError("Each --rake column may be given only once.")
        except EstimationError as error:
            raise CommandError(str(error)) from None
        data = _read_csv(path)
        try:
            result = estimate(
                data,
                options["y"],
                design=design,
                statistic=options["statistic"],
                domain=options["domain"],
                quantile=options["quantile"],
                level=options["level"],
                rake=margins or None,
            )
        except EstimationError as error:
            raise CommandError(f"{path}: {error}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
            return
        self.stdout.write(_describe(result, options["y"], path))


def _read_csv(path: Path):
    import polars as pl

    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    try:
        return pl.read_csv(path, null_values=["NA", ""], infer_schema_length=None)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as error:
        raise CommandError(f"{path}: cannot be read as CSV ({error}).") from None


def _describe(result, y: str, path: Path) -> str:
    what = result.statistic
    if what == "quantile":
        what = f"quantile {result.quantile:g}"
    subject = f"{what} of {y}" + (f" in domain {result.domain}" if result.domain else "")
    level = f"{100 * result.level:g}%"
    lines = [
        f"{subject} ({path.name})",
        f"  estimate  {result.estimate:.10g}",
        f"  SE        {result.se:.10g}",
        f"  {level} CI    {result.ci_low:.10g} to {result.ci_high:.10g}",
        f"  n         {result.n} rows, {result.df} design df",
        f"  method    {result.method}",
    ]
    return "\n".join(lines)
