"""Variants behind the same interface: unimodal VAE/AE, product of experts (MVAE), MoPoE."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

import torch

from .base import MultimodalModel
from .losses import Posterior, mixture_moments, product_of_experts

__all__ = ["UnimodalVAE", "UnimodalAE", "PoEVAE", "MoPoEVAE"]


class UnimodalVAE(MultimodalModel):
    """One modality's VAE (``modality="ecg"`` or ``"mri"``): the reconstruction quality ceiling."""

    architecture = "unimodal_vae"

    def __init__(self, config: dict[str, Any] | None = None, **overrides: Any):
        super().__init__(config, **overrides)
        self.modality = self.modalities[0]

    def fuse(self, posteriors: Mapping[str, Posterior]) -> Posterior:
        return posteriors[self.modality]

    def translate(self, source: str, target: str, x: Any) -> torch.Tensor:
        if source != target:
            raise ValueError(
                f"a unimodal model of {self.modality!r} cannot translate {source!r} to {target!r}; "
                "use a multimodal architecture"
            )
        return super().translate(source, target, x)

    def _latent(self, post: Posterior) -> torch.Tensor:
        return post.rsample() if self.training else post.mu

    def _kl(self, post: Posterior) -> torch.Tensor:
        return post.kl().mean()

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        x = self._inputs(batch, (self.modality,))
        post = Posterior.from_params(self.encoders[self.modality](x[self.modality]))
        recon = self.recon_losses(self._latent(post), x)
        kl = self._kl(post)
        return {
            "loss": self.weighted(recon) + self._beta() * kl,
            f"{self.modality}_recon": recon[self.modality],
            "kl": kl,
        }


class UnimodalAE(UnimodalVAE):
    """Deterministic autoencoder of one modality (z = encoder mean, no KL term)."""

    architecture = "unimodal_ae"

    def _latent(self, post: Posterior) -> torch.Tensor:
        return post.mu

    def _kl(self, post: Posterior) -> torch.Tensor:
        return 0.0 * post.logvar.sum()  # keeps the log-variance head in the graph (DDP)


def _subsets(mods: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [s for k in range(1, len(mods) + 1) for s in combinations(mods, k)]


class PoEVAE(MultimodalModel):
    """Product of experts (MVAE, Wu & Goodman 2018): joint posterior = prior x experts.

    Objective: ELBO of the joint posterior (reconstructing every modality) plus the ELBO
    of each single-modality posterior (reconstructing its own modality).
    """

    architecture = "mvae"

    def fuse(self, posteriors: Mapping[str, Posterior]) -> Posterior:
        return product_of_experts([posteriors[m] for m in self.modalities if m in posteriors])

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        x = self._inputs(batch, None)
        experts = {m: Posterior.from_params(self.encoders[m](v)) for m, v in x.items()}
        terms = [(tuple(x), self.fuse(experts))]
        if len(x) > 1:
            terms += [((m,), product_of_experts([experts[m]])) for m in x]
        loss = 0.0
        out: dict[str, torch.Tensor] = {}
        kls = []
        for subset, post in terms:
            z = post.rsample() if self.training else post.mu
            recon = self.recon_losses(z, {m: x[m] for m in (x if len(subset) == len(x) else subset)})
            kl = post.kl().mean()
            kls.append(kl)
            loss = loss + self.weighted(recon) + self._beta() * kl
            if len(subset) == len(x):
                out.update({f"{m}_recon": v for m, v in recon.items()})
        out["kl"] = torch.stack(kls).mean()
        out["loss"] = loss / len(terms)
        return out


class MoPoEVAE(MultimodalModel):
    """Mixture of products of experts (Sutter et al. 2021).

    Subset posteriors are PoE of their modalities; the joint is their equal-weight mixture.
    Training draws one subset per sample, reconstructs every modality from it, and
    penalises the mean KL of the subset posteriors. Inference fuses by moment matching.
    """

    architecture = "mopoe"

    def _subset_posteriors(self, experts: Mapping[str, Posterior]) -> list[Posterior]:
        mods = tuple(m for m in self.modalities if m in experts)
        return [product_of_experts([experts[m] for m in s], prior=False) for s in _subsets(mods)]

    def fuse(self, posteriors: Mapping[str, Posterior]) -> Posterior:
        return mixture_moments(self._subset_posteriors(posteriors))

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        x = self._inputs(batch, None)
        experts = {m: Posterior.from_params(self.encoders[m](v)) for m, v in x.items()}
        subsets = self._subset_posteriors(experts)
        if self.training:
            samples = torch.stack([p.rsample() for p in subsets])  # (S, B, D)
            pick = torch.randint(len(subsets), (samples.shape[1],), device=samples.device)
            z = samples[pick, torch.arange(samples.shape[1], device=samples.device)]
        else:
            z = mixture_moments(subsets).mu
        recon = self.recon_losses(z, x)
        kl = torch.stack([p.kl().mean() for p in subsets]).mean()
        out = {f"{m}_recon": v for m, v in recon.items()}
        out["kl"] = kl
        out["loss"] = self.weighted(recon) + self._beta() * kl
        return out
