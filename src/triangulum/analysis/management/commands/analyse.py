"""triangulum analyse --study SLUG [--step NAME] [--seed N] [--param KEY=JSON ...]"""

import json

from triangulum.core.commands import CommandError, TriangulumCommand
from triangulum.studies.models import Study

from ... import actions
from ...steps import STEP_BY_NAME, StepError


class Command(TriangulumCommand):
    help = "Run the survey analysis steps of a study and store their results with provenance."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's slug")
        parser.add_argument("--step", choices=sorted(STEP_BY_NAME), help="run only this step")
        parser.add_argument("--seed", type=int, default=actions.DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=JSON",
            help="a parameter of --step, its value as JSON (e.g. n=8 or rule='\"combine\"')",
        )

    def handle(self, *args, **options):
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with slug {options['study']!r}.")
        parameters = {}
        for text in options["param"]:
            key, sep, value = text.partition("=")
            if not sep or not options["step"]:
                raise CommandError(f"--param {text!r}: give KEY=JSON, together with --step.")
            try:
                parameters[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                parameters[key.strip()] = value
        try:
            if options["step"]:
                runs = [
                    actions.run_step(
                        study=study,
                        step=options["step"],
                        parameters=parameters,
                        actor="triangulum analyse",
                        seed=options["seed"],
                    )
                ]
            else:
                runs = actions.run_all(
                    study=study, actor="triangulum analyse", seed=options["seed"]
                )
        except StepError as error:
            raise CommandError(str(error)) from None
        failed = []
        for run in runs:
            results = list(run.results.all())
            self.stdout.write(
                f"{run.step}: {run.get_status_display().lower()} — {len(results)} result(s), run {run.pk} "
                f"(inputs {run.inputs_hash[:12]}, seed {run.seed}, {run.code_version})"
            )
            for result in results:
                size = f"{len(result.data or [])} rows" if result.kind == "table" else result.kind
                self.stdout.write(f"  {result.name}: {size}")
            if run.error:
                failed.append(f"{run.step}: {run.error}")
        self.stdout.write(
            f"Stored in the study's database; see /studies/{study.slug}/analysis/ in the web app."
        )
        if failed:
            raise CommandError("Step(s) failed: " + "; ".join(failed))
