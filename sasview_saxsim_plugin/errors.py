"""Errors raised for user mistakes (bad sizes, budgets, files).

The CLI prints these as one clear line instead of a traceback.
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


class SaxsimRunError(RuntimeError):
    """A long run failed for a reason outside the user's input (workers lost, storage gone);
    nothing partial is returned. The CLI prints the message without a traceback."""


class WeightsError(SaxsimInputError):
    """A network weight file is missing, corrupt, unsafe or does not fit this version of the
    network; the message names the file."""
