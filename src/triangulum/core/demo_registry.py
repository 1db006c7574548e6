"""How ``triangulum demo`` grows: each app contributes ordered steps.

An app that adds to the demo has a ``demo.py`` module defining ``STEPS``: a list of
``DemoStep``. Steps run in the order of ``INSTALLED_APPS`` (the order evidence flows),
then in list order within the app, except that a step may ask to run right after or right
before another step by name, where the study's timetable differs from app order (wave 2
was fielded after the case studies whose propositions it tests). Each step receives a
``DemoContext`` it can read and add to, so a later phase finds what an earlier one made
(the study, samples, waves).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any


@dataclass
class DemoContext:
    directory: Path
    outputs: Path
    seed: int = 2013
    # What each step made, for the closing summary: (description, path or None).
    made: list[tuple[str, Path | None]] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    def record(self, description: str, path: Path | None = None) -> None:
        self.made.append((description, path))


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable[[DemoContext], None]
    # Where the study's timetable, not app order, decides: run right after, or right
    # before, the step of this name (ignored when no step has it).
    after: str | None = None
    before: str | None = None


def collect_steps() -> list[DemoStep]:
    from django.apps import apps

    steps: list[DemoStep] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("triangulum."):
            continue
        module_name = f"{config.name}.demo"
        if find_spec(module_name) is None:
            continue
        steps.extend(import_module(module_name).STEPS)
    return placed(steps)


def placed(steps: list[DemoStep]) -> list[DemoStep]:
    """App order, with each ``after`` step moved behind its named step, then each
    ``before`` step moved in front of its named step."""
    ordered = list(steps)
    for hint in ("after", "before"):
        for step in [s for s in ordered if getattr(s, hint)]:
            names = [s.name for s in ordered if s is not step]
            target = getattr(step, hint)
            if target not in names:
                continue
            ordered.remove(step)
            ordered.insert(names.index(target) + (1 if hint == "after" else 0), step)
    return ordered
