"""Every exception the package raises, in one place.

User mistakes (bad sizes, budgets, files, weight files) are :class:`SaxsimInputError`;
failures outside the user's input are :class:`SaxsimRunError`. The CLI prints both as one
clear line instead of a traceback; the GUI shows them in its status line.
"""


class SaxsimInputError(ValueError):
    """A user-supplied value cannot be used; the message names the parameter and the fix."""


def require_positive(name: str, value: float, unit: str = "") -> float:
    """Return ``float(value)`` or raise :class:`SaxsimInputError` if it is not finite and > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SaxsimInputError(f"{name} must be a number, got {value!r}") from None
    if not v > 0 or v == float("inf"):
        raise SaxsimInputError(f"{name} must be a finite number > 0{(' ' + unit) if unit else ''}, "
                               f"got {value!r}")
    return v


def require_fraction(name: str, value: float, upper: float = 1.0, closed_low: bool = True) -> float:
    """Return ``float(value)`` or raise if it is not finite in [0, upper] (or (0, upper])."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SaxsimInputError(f"{name} must be a number, got {value!r}") from None
    ok = (0 <= v if closed_low else 0 < v) and v <= upper
    if not ok:
        lo = "[0" if closed_low else "(0"
        raise SaxsimInputError(f"{name} must lie in {lo}, {upper}], got {value!r}")
    return v


class ComputationCancelled(Exception):
    """Raised by a progress callback to stop a computation (the user pressed Cancel)."""


#: models already warned about q in 1/nm (one warning per model and process)
_WARNED_Q_UNITS: set = set()


def warn_if_q_in_nm(q, model: str) -> None:
    """Warn once per ``model`` when q (1/Å) reaches beyond 2 1/Å, unusual for SAS and what
    data in 1/nm look like (sasmodels uses 1/Å)."""
    import warnings

    import numpy as np
    q = np.asarray(q, float)
    if q.size and np.nanmax(np.abs(q)) > 2.0 and model not in _WARNED_Q_UNITS:
        _WARNED_Q_UNITS.add(model)
        warnings.warn(f"{model}: q up to {np.nanmax(np.abs(q)):.3g} 1/Å is unusually large "
                      "for SAS; is the data's q in 1/nm? (sasmodels uses 1/Å)", stacklevel=3)


def require_extra(module: str, extra: str, purpose: str):
    """Import ``module`` (an optional dependency) or raise :class:`SaxsimInputError` naming
    the extra that installs it: ``pip install 'sasview_saxsim_plugin[extra]'``."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SaxsimInputError(f"{purpose} needs {module.split('.')[0]}, which the "
                               f"'{extra}' extra installs: pip install "
                               f"'sasview_saxsim_plugin[{extra}]'") from None


class SaxsimRunError(RuntimeError):
    """A long run failed for a reason outside the user's input (workers lost, storage gone);
    nothing partial is returned. The CLI prints the message without a traceback."""


class WeightsError(SaxsimInputError):
    """A network weight file is missing, corrupt, unsafe or does not fit this version of the
    network; the message names the file."""


class DaskRunError(SaxsimRunError):
    """The distributed run failed (worker deaths beyond retries, lost storage): no result."""


class SasViewCompatibilityError(RuntimeError):
    """SasView is missing, of an untested version, or cannot start in this environment."""
