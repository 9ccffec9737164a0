"""Progress reporting for long computations: a tqdm bar on a terminal, or a callback.

Every long loop of the package takes ``progress``, which may be

* ``False``/``None``: silent;
* ``True``: a tqdm bar (the CLI); ``TerminalBars(prefix)``: the same with a prefix;
* a callable ``progress(stage, done, total)``: called after each step (the GUI). The callable
  may stop the job by raising :class:`ComputationCancelled`; the loop does not catch it, so
  nothing half-done is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from .errors import ComputationCancelled

__all__ = ["ComputationCancelled", "Progress", "ProgressArg", "TerminalBars", "prefixed",
           "track"]

ProgressCallback = Callable[[str, int, int], None]
T = TypeVar("T")


class TerminalBars:
    """``progress=True`` with a ``prefix`` before every bar's name (``prefixed``)."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix


ProgressArg = bool | None | ProgressCallback | TerminalBars


class Progress:
    """Steps of one stage of work, reported to a tqdm bar or a callback (see module doc)."""

    def __init__(self, progress: ProgressArg, total: int, stage: str, unit: str = "step"):
        self.total = int(total)
        self.stage = stage
        self.done = 0
        self._callback = progress if callable(progress) else None
        self._bar = None
        if progress is True or isinstance(progress, TerminalBars):
            from tqdm import tqdm
            prefix = progress.prefix if isinstance(progress, TerminalBars) else ""
            self._bar = tqdm(total=self.total, desc=prefix + stage, unit=unit, leave=False)
        if self._callback is not None:
            self._callback(stage, 0, self.total)

    def update(self, steps: int = 1) -> None:
        """Count ``steps`` more steps done (may raise ComputationCancelled via the callback)."""
        self.done += steps
        if self._bar is not None:
            self._bar.update(steps)
        if self._callback is not None:
            self._callback(self.stage, self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(items: Iterable[T], progress: ProgressArg, stage: str, total: int | None = None,
          unit: str = "step") -> Iterator[T]:
    """Iterate over ``items`` reporting one step per item (``total`` defaults to len)."""
    if not progress:
        yield from items
        return
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    with Progress(progress, len(items) if total is None else total, stage, unit) as bar:
        for item in items:
            yield item
            bar.update()


def prefixed(progress: ProgressArg, prefix: str) -> ProgressArg:
    """``progress`` with ``prefix`` put before each stage name: of a callback's stages and
    of terminal bars (``True``); silence stays silent."""
    if progress is True:
        return TerminalBars(prefix)
    if isinstance(progress, TerminalBars):
        return TerminalBars(progress.prefix + prefix)
    if not callable(progress):
        return progress

    def report(stage: str, done: int, total: int) -> None:
        progress(prefix + stage, done, total)
    return report
