"""``triangulum sample draw|list|show``: draw samples from a frame and look at them."""

import argparse
import getpass
import json
from datetime import date

from django.core.management.base import CommandParser

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.organisations.models import OrganisationType
from triangulum.studies.models import Study

from ... import actions
from ...designs import ALLOCATIONS, DesignError
from ...models import Sample
from ...queries import STRATUM_ATTRIBUTES, sample_csv, sample_units, samples_for_study


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2013-04-01"
        ) from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _sizes(text: str) -> dict[str, int] | int:
    """``5`` (every stratum) or ``London=5,North of England=10`` (each stratum)."""
    if "=" not in text:
        return _whole_number(text)
    sizes = {}
    for part in text.split(","):
        stratum, _, size = part.partition("=")
        if not stratum.strip():
            raise argparse.ArgumentTypeError(f"{part!r} names no stratum: write STRATUM=N")
        sizes[stratum.strip()] = _whole_number(size.strip())
    return sizes


def _included(text: str) -> tuple[str, str]:
    code, _, reason = text.partition("=")
    if not code.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r}: write ODS_CODE=REASON, e.g. 08H=the site that asked to take part"
        )
    return code.strip(), reason.strip()


def _cli_actor() -> str:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = "unknown"
    return f"triangulum sample (as {who})"


class Command(TriangulumCommand):
    help = (
        "Draw a census, stratified random sample or purposive selection of organisations for "
        "a study, list a study's samples, or show one (as text or CSV)."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=CommandParser
        )
        draw = commands.add_parser(
            "draw",
            help="draw a sample from a frame of organisations and store it in the study",
        )
        draw.add_argument("--study", required=True, metavar="SLUG", help="the study's slug")
        draw.add_argument(
            "--type",
            dest="org_type",
            required=True,
            choices=OrganisationType.values,
            help="the kind of organisation the frame holds",
        )
        draw.add_argument(
            "--open-on",
            type=_iso_date,
            metavar="YYYY-MM-DD",
            help="the frame's vintage: only organisations open on this day",
        )
        draw.add_argument("--region", help="only organisations in this region (ODS code or name)")
        draw.add_argument(
            "--method", required=True, choices=Sample.Method.values, help="the design"
        )
        draw.add_argument(
            "--strata",
            default="region",
            choices=STRATUM_ATTRIBUTES,
            help="stratified: the attribute that forms the strata (default region)",
        )
        draw.add_argument(
            "--n",
            type=_whole_number,
            help="stratified: the total sample size; purposive: how many to select",
        )
        draw.add_argument(
            "--n-per-stratum",
            type=_sizes,
            metavar="N|STRATUM=N,…",
            help="stratified: one size for every stratum (equal), or a size per stratum (fixed)",
        )
        draw.add_argument(
            "--allocation",
            default="proportional",
            choices=ALLOCATIONS,
            help="stratified: how the sample is shared among strata (default proportional)",
        )
        draw.add_argument(
            "--minimum",
            type=_whole_number,
            default=1,
            help="stratified: the least any stratum gets (default 1)",
        )
        draw.add_argument(
            "--attributes",
            default=",".join(actions.DEFAULT_PURPOSIVE_ATTRIBUTES),
            help="purposive: comma-separated attributes to vary "
            f"(default {','.join(actions.DEFAULT_PURPOSIVE_ATTRIBUTES)})",
        )
        draw.add_argument(
            "--include",
            type=_included,
            action="append",
            default=[],
            metavar="ODS=REASON",
            help="purposive: a unit the researcher requires, with the reason (repeatable)",
        )
        draw.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="ODS",
            help="purposive: a unit that may not be chosen (repeatable)",
        )
        draw.add_argument(
            "--exclude-sample",
            action="append",
            default=[],
            metavar="ID",
            type=_whole_number,
            help="purposive: leave out every unit of this earlier sample (repeatable)",
        )
        draw.add_argument(
            "--seed", type=_whole_number, help="the random seed (stratified, purposive)"
        )
        draw.add_argument("--name", help="the sample's name (default: describes the design)")
        draw.add_argument("--dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

        listing = commands.add_parser("list", help="list a study's samples")
        listing.add_argument("--study", required=True, metavar="SLUG", help="the study's slug")
        listing.add_argument("--dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

        show = commands.add_parser("show", help="show one sample's design and units")
        show.add_argument("sample_id", type=_whole_number, metavar="ID", help="the sample's id")
        show.add_argument(
            "--format", choices=["text", "csv"], default="text", help="output format (default text)"
        )
        show.add_argument("--dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        handler = getattr(self, f"handle_{options['action']}")
        try:
            handler(options)
        except DesignError as error:
            raise CommandError(str(error)) from None

    def _study(self, slug: str) -> Study:
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study with slug {slug!r} (see `triangulum study list`).")
        return study

    def handle_draw(self, options):
        study = self._study(options["study"])
        method = options["method"]
        frame = {
            "study": study,
            "org_type": options["org_type"],
            "vintage": options["open_on"],
            "region": options["region"],
            "name": options["name"],
            "actor": _cli_actor(),
        }
        if method != Sample.Method.CENSUS and options["seed"] is None:
            raise CommandError(f"--seed is required for a {method} sample, so it can be redrawn.")
        if method == Sample.Method.CENSUS:
            sample = actions.draw_census(**frame)
        elif method == Sample.Method.STRATIFIED:
            sizes = options["n_per_stratum"]
            sample = actions.draw_stratified(
                **frame,
                seed=options["seed"],
                strata=options["strata"],
                n_total=options["n"],
                n_per_stratum=sizes,
                allocation=options["allocation"],
                minimum_per_stratum=options["minimum"],
            )
        else:
            if options["n"] is None:
                raise CommandError("--n is required for a purposive selection: how many to select.")
            earlier = []
            for sample_id in options["exclude_sample"]:
                found = Sample.objects.filter(pk=sample_id, study=study).first()
                if found is None:
                    raise CommandError(
                        f"--exclude-sample {sample_id}: no such sample in {study.slug}."
                    )
                earlier.append(found)
            sample = actions.select_purposive(
                **frame,
                seed=options["seed"],
                n=options["n"],
                attributes=[a for a in options["attributes"].split(",") if a.strip()],
                must_include=dict(options["include"]),
                exclude=options["exclude"],
                exclude_samples=earlier,
            )
        self.stdout.write(
            f"Sample {sample.pk} '{sample.name}': {sample.units.count()} of {sample.frame_size} "
            f"organisations ({sample.get_method_display()}). Inputs hash {sample.inputs_hash}."
        )

    def handle_list(self, options):
        study = self._study(options["study"])
        samples = list(samples_for_study(study))
        if not samples:
            self.stdout.write(f"{study.slug} has no samples yet.")
            return
        for sample in samples:
            self.stdout.write(
                f"{sample.pk:>5}  {sample.method:<10}  {sample.unit_count:>4} of "
                f"{sample.frame_size:<5}  seed {'-' if sample.seed is None else sample.seed:<6}  "
                f"{sample.name}{'  [simulated study]' if sample.is_simulated else ''}"
            )

    def handle_show(self, options):
        sample = Sample.objects.select_related("study").filter(pk=options["sample_id"]).first()
        if sample is None:
            raise CommandError(f"No sample with id {options['sample_id']}.")
        if options["format"] == "csv":
            self.stdout.write(sample_csv(sample), ending="")
            return
        write = self.stdout.write
        write(f"{sample.name} (sample {sample.pk}, study {sample.study.slug})")
        if sample.is_simulated:
            write("SIMULATED: drawn for a study whose records are simulated.")
        write(f"Method:       {sample.get_method_display()}")
        vintage = sample.vintage.isoformat() if sample.vintage else "any date"
        write(f"Frame:        {sample.frame_size} {sample.org_type} open on {vintage}")
        write(
            f"Seed:         {'none (no random numbers used)' if sample.seed is None else sample.seed}"
        )
        write(f"Parameters:   {json.dumps(sample.parameters, sort_keys=True)}")
        write(f"Inputs hash:  {sample.inputs_hash}")
        write("")
        for unit in sample_units(sample):
            probability = (
                "no probability"
                if unit.inclusion_probability is None
                else f"p={unit.inclusion_probability:.4f} w={unit.base_weight:.4f}"
            )
            stratum = f" [{unit.stratum}]" if unit.stratum else ""
            write(
                f"{unit.selection_order:>4}. {unit.organisation.ods_code:<6} "
                f"{unit.organisation.name}{stratum} {probability}"
            )
            if sample.method == Sample.Method.PURPOSIVE:
                write(f"      {unit.reason}")
