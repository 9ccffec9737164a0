"""Reading and writing the networks' weight files without unpickling arbitrary objects.

``torch.load(..., weights_only=True)`` accepts tensors, plain containers and numbers only, so
a weight file a user passes with ``--weights`` cannot run code. Files written before
2026-12-06 hold ``torch.__version__`` as a ``TorchVersion`` object, which is allow-listed.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.torch_version import TorchVersion

from ..errors import WeightsError


def read_weights(path: str | Path) -> dict:
    """The dictionary stored in the weight file ``path``; a missing, corrupt or unsafe file
    is a :class:`~sasview_saxsim_plugin.errors.WeightsError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weight file {path} not found; run `saxsim train` or reinstall")
    try:
        with torch.serialization.safe_globals([TorchVersion]):
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # corrupt, truncated, not a torch file, or objects beyond tensors
        # torch's own message suggests weights_only=False, which would run the file's code:
        # never pass that advice on
        raise WeightsError(f"weight file {path} is not saxsim network weights: not a torch "
                           "file of tensors and plain values (corrupt, truncated, another "
                           "program's file, or one that holds code)") from None
    if not isinstance(blob, dict) or "config" not in blob or "state" not in blob:
        raise WeightsError(f"weight file {path} is not a saxsim network (no config/state)")
    return blob


def write_weights(blob: dict, path: str | Path) -> None:
    """Store ``blob`` (plain containers, numbers, strings and tensors only) at ``path``."""
    torch.save(blob, Path(path))
