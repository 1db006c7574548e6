"""How ``triangulum demo`` grows: each app contributes ordered steps.

An app that adds to the demo has a ``demo.py`` module defining ``STEPS``: a list of
``DemoStep``. Steps run in the order of ``INSTALLED_APPS`` (the order evidence flows),
then in list order within the app. Each step receives a ``DemoContext`` it can read and
add to, so a later phase finds what an earlier one made (the study, samples, waves).
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
    return steps
