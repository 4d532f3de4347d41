"""The default model: a variational cross-modal autoencoder with DropFuse fusion (ml4h / LSE paper)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .base import MultimodalModel
from .losses import Posterior, info_nce, mixture_moments

__all__ = ["CrossModalVAE"]


class CrossModalVAE(MultimodalModel):
    """ECG and cine encoders into one latent space, aligned by symmetric InfoNCE.

    Training: each modality gives a Gaussian posterior; a sample is drawn from each and,
    per latent dimension, one modality's value is picked at random (DropFuse), so both
    decoders learn to read either encoder. With ``modality_dropout`` a sample instead
    uses a single modality for the whole vector. The loss is the weighted reconstruction
    (log-cosh ECG, MSE cine, on normalised data) + beta * mean KL of the modality
    posteriors + ``contrastive_weight`` * InfoNCE between the posterior means, with a
    learnable temperature. Inference: the fused posterior is the moment-matched mixture
    of the available modalities (its mean is the mean of the modality means).
    """

    architecture = "cross_modal_vae"

    def __init__(self, config: dict[str, Any] | None = None, **overrides: Any):
        super().__init__(config, **overrides)
        t = float(self.config["temperature"])
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / t)))

    @property
    def temperature(self) -> float:
        return float(1.0 / self.logit_scale.detach().exp())

    def fuse(self, posteriors: Mapping[str, Posterior]) -> Posterior:
        return mixture_moments([posteriors[m] for m in self.modalities if m in posteriors])

    def dropfuse(self, posteriors: Mapping[str, Posterior]) -> torch.Tensor:
        """Per-dimension random choice among reparameterised samples of each modality."""
        mods = [m for m in self.modalities if m in posteriors]
        samples = torch.stack([posteriors[m].rsample() for m in mods])  # (M, B, D)
        if len(mods) == 1:
            return samples[0]
        _, b, d = samples.shape
        choice = torch.randint(len(mods), (b, d), device=samples.device)
        p = float(self.config["modality_dropout"])
        if p > 0:
            whole = torch.rand(b, 1, device=samples.device) < p
            one = torch.randint(len(mods), (b, 1), device=samples.device).expand(b, d)
            choice = torch.where(whole, one, choice)
        return samples.gather(0, choice[None]).squeeze(0)

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        x = self._inputs(batch, None)
        post = {m: Posterior.from_params(self.encoders[m](v)) for m, v in x.items()}
        z = self.dropfuse(post) if self.training else self.fuse(post).mu
        recon = self.recon_losses(z, x)
        kl = torch.stack([p.kl().mean() for p in post.values()]).mean()
        loss = self.weighted(recon) + self._beta() * kl
        out = {f"{m}_recon": v for m, v in recon.items()}
        out["kl"] = kl
        if len(post) > 1 and float(self.config["contrastive_weight"]) > 0:
            scale = self.logit_scale.clamp(max=math.log(100.0))
            nce = info_nce(post["ecg"].mu, post["mri"].mu, scale)
            loss = loss + float(self.config["contrastive_weight"]) * nce
            out["contrastive"] = nce
        else:  # keep the temperature in the graph so DDP sees every parameter used
            loss = loss + 0.0 * self.logit_scale
        out["loss"] = loss
        return out
