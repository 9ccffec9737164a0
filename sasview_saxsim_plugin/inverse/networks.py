"""The two FrEIA networks.

``ShapePosteriorNet`` (shipped): a curve encoder (MLP) shared by a shape classifier and a
conditional invertible network (cINN, Ardizzone et al. 2019 "Guided image generation with
conditional invertible neural networks") that maps the standardised parameters θ to a Gaussian
latent z given the encoded curve and the shape. Trained by maximum likelihood, so its samples
are posterior samples p(θ | curve, shape).

(The thesis' own INN, the baseline, is ``thesis.network.ThesisINN``.)
"""

from __future__ import annotations

import FrEIA.framework as Ff
import FrEIA.modules as Fm
import torch
from torch import nn

from .families import FAMILIES, MAX_PARAMETERS
from .features import N_BINS


def _mlp(sizes: list[int], act=nn.GELU, last_act: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_act:
            layers.append(act())
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """1D convolutions along log q, then an MLP head.

    A change of particle size shifts a curve along log q (I(q; R) = R⁶ f(qR) for a sphere), so
    detectors of fringes, Guinier knees and structure-factor peaks are shared across q by
    convolution instead of being learnt once per bin position as in the MLP.
    """

    def __init__(self, channels: int, hidden: int, code: int, width: int = 24):
        super().__init__()
        self.channels = channels
        w = width
        self.conv = nn.Sequential(
            nn.Conv1d(channels, w, 5, padding=2), nn.GELU(),
            nn.Conv1d(w, w, 5, stride=2, padding=2), nn.GELU(),            # 64 bins
            nn.Conv1d(w, 2 * w, 5, padding=2), nn.GELU(),
            nn.Conv1d(2 * w, 2 * w, 5, stride=2, padding=2), nn.GELU(),    # 32 bins
            nn.Conv1d(2 * w, 4 * w, 5, stride=2, padding=2), nn.GELU(),    # 16 bins
        )
        self.head = _mlp([4 * w * (N_BINS // 8), hidden, code], last_act=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features.reshape(features.shape[0], self.channels, N_BINS)
        return self.head(self.conv(x).flatten(1))


class ShapePosteriorNet(nn.Module):
    """Encoder + classifier + conditional INN over the standardised parameters of a family
    (``families.to_standard``; a family with fewer than ``parameters`` pads with N(0, 1)).

    ``channels``: per-bin input channels (2: normalised log I and mask; 3: plus the relative
    error of the bin mean); ``encoder``: "mlp" or "conv" (``ConvEncoder``, first layer
    ``encoder_width`` channels).
    """

    def __init__(self, hidden: int = 512, code: int = 128, blocks: int = 8,
                 subnet_hidden: int = 192, encoder: str = "mlp", channels: int = 2,
                 encoder_width: int = 24,  # 24: files saved before the key existed
                 classes: int = len(FAMILIES), parameters: int = MAX_PARAMETERS):
        super().__init__()
        self.config = {"hidden": hidden, "code": code, "blocks": blocks,
                       "subnet_hidden": subnet_hidden, "encoder": encoder,
                       "channels": channels, "encoder_width": encoder_width,
                       "classes": classes, "parameters": parameters}
        self.classes, self.parameters_dim = classes, parameters
        if encoder == "mlp":
            self.encoder = _mlp([channels * N_BINS, hidden, hidden, hidden, code],
                                last_act=True)
        elif encoder == "conv":
            self.encoder = ConvEncoder(channels, hidden, code, width=encoder_width)
        else:
            raise ValueError(f"encoder must be 'mlp' or 'conv', not {encoder!r}")
        self.classifier = nn.Linear(code, classes)
        cond = code + classes

        def subnet(c_in: int, c_out: int) -> nn.Module:
            net = _mlp([c_in, subnet_hidden, subnet_hidden, c_out])
            nn.init.zeros_(net[-1].weight)
            nn.init.zeros_(net[-1].bias)
            return net

        self.flow = Ff.SequenceINN(parameters)
        for _ in range(blocks):
            self.flow.append(Fm.AllInOneBlock, cond=0, cond_shape=(cond,),
                             subnet_constructor=subnet, affine_clamping=2.0, permute_soft=True)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        return self.encoder(features)

    def condition(self, code: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        return torch.cat([code, nn.functional.one_hot(shape, self.classes).to(code.dtype)],
                         dim=1)

    def log_likelihood_terms(self, theta: torch.Tensor, cond: torch.Tensor):
        z, log_jac = self.flow(theta, c=[cond])
        return z, log_jac

    def sample(self, cond: torch.Tensor, n: int, generator: torch.Generator | None = None,
               z_scale: float = 1.0) -> torch.Tensor:
        """n posterior samples per condition row: (rows, n, parameters), standardised.

        ``z_scale`` > 1 widens the posterior (latent drawn from N(0, z_scale²)); calibrated
        after training so that 68 % intervals cover 68 % of held-out truths."""
        rows = cond.shape[0]
        z = z_scale * torch.randn(rows * n, self.parameters_dim, generator=generator,
                                  dtype=cond.dtype)
        theta, _ = self.flow(z, c=[cond.repeat_interleave(n, dim=0)], rev=True)
        return theta.reshape(rows, n, self.parameters_dim)
