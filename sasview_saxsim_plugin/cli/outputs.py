"""Output files of the commands, checked before any computation."""

from __future__ import annotations

import os

from ..errors import SaxsimInputError


def check_output(path: str, overwrite: bool | None) -> str:
    """Check an output file before any computation (not after an hour of FFT): its folder
    must exist and be writable, and an existing file is refused unless ``overwrite``
    (``None``: a plot the command may replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SaxsimInputError(f"{path!r}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SaxsimInputError(f"{path!r}: the folder {folder} is not writable")
    if os.path.isdir(path):
        raise SaxsimInputError(f"{path!r} is a folder; give a file name")
    if overwrite is False and os.path.exists(path):
        raise SaxsimInputError(f"{path!r} exists; pass --overwrite to replace it, or choose "
                               "another file")
    return path
