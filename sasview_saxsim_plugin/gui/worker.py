"""Run one function off the GUI thread, with progress, cancel and errors as Qt signals."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PySide6 import QtCore

from ..errors import ComputationCancelled, SaxsimInputError


class Job(QtCore.QThread):
    """``fn(progress)`` in a thread; ``progress(stage, done, total)`` is forwarded as the
    ``progressed`` signal and raises ComputationCancelled once ``cancel()`` was called.

    Exactly one of ``succeeded(result)``, ``failed(message, details)`` or ``cancelled()`` is
    emitted. A ``SaxsimInputError``, other ``ValueError`` or one of ``user_errors`` is a user
    problem: its message alone; anything else also carries the traceback in ``details``
    (for SasView's log).
    """

    succeeded = QtCore.Signal(object)
    failed = QtCore.Signal(str, str)
    cancelled = QtCore.Signal()
    progressed = QtCore.Signal(str, int, int)

    def __init__(self, fn: Callable, parent: QtCore.QObject | None = None,
                 user_errors: tuple[type[BaseException], ...] = ()):
        super().__init__(parent)
        self._fn = fn
        self._user_errors = (SaxsimInputError, ValueError, *user_errors)
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report."""
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._stop.is_set():
            raise ComputationCancelled(stage)
        self.progressed.emit(stage, int(done), int(total))

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            result = self._fn(self._progress)
        except ComputationCancelled:
            self.cancelled.emit()
        except self._user_errors as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # report everything else; never let a thread die silently
            self.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            if self._stop.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
