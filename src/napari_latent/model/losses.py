"""Posteriors and loss terms: Gaussian posterior, KL, log-cosh, MSE, symmetric InfoNCE, PoE."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["Posterior", "log_cosh", "mse", "info_nce", "product_of_experts", "mixture_moments"]

_LOGVAR_MIN, _LOGVAR_MAX = -12.0, 8.0


@dataclass
class Posterior:
    """A diagonal Gaussian q(z|x) = N(mu, exp(logvar)), tensors of shape (B, latent_dim)."""

    mu: torch.Tensor
    logvar: torch.Tensor

    @classmethod
    def from_params(cls, params: torch.Tensor) -> Posterior:
        """Split an encoder output (B, 2*D) into mean and clamped log-variance."""
        mu, logvar = params.float().chunk(2, dim=-1)
        return cls(mu, logvar.clamp(_LOGVAR_MIN, _LOGVAR_MAX))

    @property
    def mean(self) -> torch.Tensor:
        return self.mu

    @property
    def std(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A reparameterised sample."""
        eps = torch.randn(self.mu.shape, generator=generator, device=self.mu.device, dtype=self.mu.dtype)
        return self.mu + eps * self.std

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) summed over latent dims, one value per sample."""
        return 0.5 * (self.mu.square() + self.logvar.exp() - 1.0 - self.logvar).sum(-1)

    def detach(self) -> Posterior:
        return Posterior(self.mu.detach(), self.logvar.detach())

    def __getitem__(self, index) -> Posterior:
        return Posterior(self.mu[index], self.logvar[index])


def log_cosh(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean log(cosh(pred - target)), computed stably."""
    d = (pred - target).float()
    a = d.abs()
    return (a + F.softplus(-2.0 * a) - math.log(2.0)).mean()


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error in float32."""
    return F.mse_loss(pred.float(), target.float())


def info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric (CLIP) InfoNCE between paired rows of ``a`` and ``b``; cosine logits times exp(logit_scale)."""
    a = F.normalize(a.float(), dim=-1)
    b = F.normalize(b.float(), dim=-1)
    logits = logit_scale.exp() * a @ b.t()
    target = torch.arange(len(a), device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def product_of_experts(experts: Sequence[Posterior], prior: bool = True) -> Posterior:
    """Precision-weighted product of Gaussian experts, with a N(0, I) prior expert by default."""
    mus = [e.mu for e in experts]
    precisions = [torch.exp(-e.logvar) for e in experts]
    if prior:
        mus.append(torch.zeros_like(mus[0]))
        precisions.append(torch.ones_like(precisions[0]))
    total = torch.stack(precisions).sum(0)
    mu = torch.stack([m * p for m, p in zip(mus, precisions, strict=True)]).sum(0) / total
    return Posterior(mu, -torch.log(total))


def mixture_moments(experts: Sequence[Posterior]) -> Posterior:
    """The Gaussian matching the mean and variance of an equal-weight mixture (per dimension)."""
    if len(experts) == 1:
        return experts[0]
    mu = torch.stack([e.mu for e in experts]).mean(0)
    var = torch.stack([e.logvar.exp() + (e.mu - mu).square() for e in experts]).mean(0)
    return Posterior(mu, torch.log(var.clamp_min(1e-12)))
