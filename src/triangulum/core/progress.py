"""Progress bars for long steps, quiet when output is not a terminal."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, description: str, total: int | None = None) -> Iterator[T]:
    # disable=None lets tqdm switch itself off when stderr is not a TTY (CI logs, pipes).
    yield from tqdm(items, desc=description, total=total, disable=None, leave=False, unit="")
