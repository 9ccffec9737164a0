"""The thesis' INN (section 3.2.2), kept as the baseline the shipped network is compared with.

An RNVP network x -> [y, z] from the 10-number shape description (one-hot shape, radius in the
shape's slot, pd, length, length pd, volume fraction) to the curve y and a 2D latent z, trained
with MSE on y and MMD losses (inverse multiquadric kernel) on [y, z] and on the inverse
direction.
"""

from __future__ import annotations

import FrEIA.framework as Ff
import FrEIA.modules as Fm
import torch
from torch import nn

from ..features import N_BINS
from ..networks import _mlp
from .catalogue import SHAPE_NAMES

N_SHAPES = len(SHAPE_NAMES)
# one-hot (3) + radius slots (3) + radius_pd, length, length_pd, volfraction
THESIS_X = 10
THESIS_Z = 2             # thesis: a 2D latent space decreased the loss best
THESIS_DIM = N_BINS + THESIS_Z


class ThesisINN(nn.Module):
    """RNVP INN x (padded) <-> [y, z]: 5 coupling blocks, subnets of 3 x 32 ELU, clamp 2."""

    def __init__(self, blocks: int = 5, subnet_hidden: int = 32, clamp: float = 2.0):
        super().__init__()
        self.config = {"blocks": blocks, "subnet_hidden": subnet_hidden, "clamp": clamp}

        def subnet(c_in: int, c_out: int) -> nn.Module:
            return _mlp([c_in, subnet_hidden, subnet_hidden, subnet_hidden, c_out], act=nn.ELU)

        self.inn = Ff.SequenceINN(THESIS_DIM)
        for k in range(blocks):
            self.inn.append(Fm.RNVPCouplingBlock, subnet_constructor=subnet, clamp=clamp)
            self.inn.append(Fm.PermuteRandom, seed=k)

    def forward(self, x: torch.Tensor, rev: bool = False) -> torch.Tensor:
        out, _ = self.inn(x, rev=rev)
        return out


def inverse_multiquadric_mmd(a: torch.Tensor, b: torch.Tensor, c2: float = 1.0) -> torch.Tensor:
    """Biased MMD² between samples a and b with k(x, y) = 1/sqrt(C² + |x - y|²) (thesis 3.2.2)."""
    def k(x, y):
        return torch.rsqrt(c2 + torch.cdist(x, y).pow(2))

    return k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean()
