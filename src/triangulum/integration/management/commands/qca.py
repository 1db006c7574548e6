import json

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.integration.qca import (
    POSITIVE,
    REMAINDER,
    QCAError,
    QCAResult,
    analyse,
    result_as_dict,
)
from triangulum.integration.qca_table import read_set_table


def _fixed(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def _arrow(solution) -> str:
    # As in R's QCA: "<=>" when the solution is both sufficient and necessary in the data.
    exact = solution.consistency == 1.0 and solution.coverage is not None
    return "<=>" if exact and abs(solution.coverage - 1.0) < 1e-9 else "=>"


class Command(TriangulumCommand):
    help = (
        "Qualitative Comparative Analysis of a CSV table of crisp or fuzzy set memberships: "
        "the truth table, the complex (remainders excluded) or parsimonious (remainders "
        "included) solution with consistency, PRI and coverage, and optionally necessity."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", metavar="FILE.csv", help="one row per case, memberships in [0, 1]"
        )
        parser.add_argument("--outcome", required=True, metavar="COLUMN", help="the outcome set")
        parser.add_argument(
            "--conditions",
            metavar="A,B,…",
            help="condition columns, comma-separated (default: every other numeric column)",
        )
        parser.add_argument(
            "--case-id",
            metavar="COLUMN",
            help="column naming the cases (default: the first non-numeric column, if any)",
        )
        parser.add_argument(
            "--incl-cut",
            type=float,
            default=1.0,
            metavar="X",
            help="minimum sufficiency consistency for a positive configuration (default 1)",
        )
        parser.add_argument(
            "--n-cut",
            type=int,
            default=1,
            metavar="N",
            help="configurations with fewer cases are logical remainders (default 1)",
        )
        parser.add_argument(
            "--remainders",
            choices=["include", "exclude"],
            default="exclude",
            help="exclude: complex solution (default); include: parsimonious solution",
        )
        parser.add_argument(
            "--negate-outcome", action="store_true", help="explain the absence of the outcome"
        )
        parser.add_argument(
            "--necessity",
            action="store_true",
            help="also test each condition and its negation as necessary for the outcome",
        )
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args, **options):
        conditions = None
        if options["conditions"]:
            conditions = [c.strip() for c in options["conditions"].split(",") if c.strip()]
        try:
            table = read_set_table(
                options["file"],
                outcome=options["outcome"],
                conditions=conditions,
                case_id=options["case_id"],
            )
            result = analyse(
                table.data,
                outcome=table.outcome,
                conditions=table.conditions,
                incl_cut=options["incl_cut"],
                n_cut=options["n_cut"],
                include_remainders=options["remainders"] == "include",
                negate_outcome=options["negate_outcome"],
                with_necessity=options["necessity"],
            )
        except QCAError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result_as_dict(result, source=options["file"]), indent=2))
        else:
            self._write_text(result, source=options["file"], cases=len(table.data.case_ids))

    def _write_text(self, result: QCAResult, *, source: str, cases: int) -> None:
        table = result.truth_table
        kind = "crisp" if result.crisp else "fuzzy"
        self.stdout.write(
            f"QCA of {table.outcome} in {source}: {cases} cases, {kind} sets, "
            f"conditions {', '.join(table.conditions)}"
        )
        self.stdout.write(f"\nTruth table (incl.cut {table.incl_cut:g}, n.cut {table.n_cut}):")
        width = max(len(c) for c in table.conditions)
        names = " ".join(c.rjust(max(3, len(c))) for c in table.conditions)
        self.stdout.write(f"  {'row':>4}  {names}  OUT   n   incl    PRI   cases")
        for row in table.observed_rows:
            values = " ".join(
                str(v).rjust(max(3, len(c)))
                for c, v in zip(table.conditions, row.configuration, strict=True)
            )
            self.stdout.write(
                f"  {row.number:>4}  {values}   {row.outcome}  {row.n:>3}  "
                f"{_fixed(row.consistency)}  {_fixed(row.pri)}  {','.join(row.cases)}"
            )
        empty = sum(1 for row in table.rows if row.n == 0)
        self.stdout.write(f"  ({empty} configurations without cases are logical remainders)")
        sparse = [row for row in table.rows if 0 < row.n and row.outcome == REMAINDER]
        if sparse:
            self.stdout.write(
                f"  ({len(sparse)} configuration(s) with fewer than {table.n_cut} cases are "
                "treated as remainders: OUT ?)"
            )
        if table.unassigned_cases:
            self.stdout.write(
                "  Cases with a membership of exactly 0.5 in a condition belong to no "
                f"configuration: {', '.join(table.unassigned_cases)}"
            )

        label = "remainders included" if result.remainders_included else "remainders excluded"
        self.stdout.write(f"\n{result.solution_type.capitalize()} solution ({label}):")
        if not table.with_outcome(POSITIVE):
            self.stdout.write(
                f"  No configuration reaches consistency {table.incl_cut:g} with at least "
                f"{table.n_cut} case(s): there is nothing to minimise."
            )
        for number, solution in enumerate(result.solutions, start=1):
            self.stdout.write(
                f"M{number}: {solution.expression} {_arrow(solution)} {table.outcome}"
            )
        if result.solutions:
            term_width = max([len(t.expression) for s in result.solutions for t in s.terms] + [4])
            self.stdout.write(f"\n  {'':<{term_width}}  inclS    PRI   covS   covU   cases")
            seen = set()
            for solution in result.solutions:
                for term in solution.terms:
                    if term.expression in seen:
                        continue
                    seen.add(term.expression)
                    unique = _fixed(term.unique_coverage) if len(result.solutions) == 1 else "  *  "
                    self.stdout.write(
                        f"  {term.expression:<{term_width}}  {_fixed(term.consistency)}  "
                        f"{_fixed(term.pri)}  {_fixed(term.raw_coverage)}  {unique}  "
                        f"{','.join(term.cases)}"
                    )
            for number, solution in enumerate(result.solutions, start=1):
                self.stdout.write(
                    f"  {'M' + str(number):<{term_width}}  {_fixed(solution.consistency)}  "
                    f"{_fixed(solution.pri)}  {_fixed(solution.coverage)}"
                )
            if len(result.solutions) > 1:
                self.stdout.write(
                    "  * unique coverage depends on the model: see --json for each model's terms"
                )

        if result.necessity:
            self.stdout.write(f"\nNecessity for {table.outcome}:")
            self.stdout.write(f"  {'':<{width + 1}}  inclN    RoN   covN")
            for name, fit in result.necessity:
                self.stdout.write(
                    f"  {name:<{width + 1}}  {_fixed(fit.consistency)}  "
                    f"{_fixed(fit.relevance)}  {_fixed(fit.coverage)}"
                )
