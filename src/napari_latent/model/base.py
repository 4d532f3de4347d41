"""The interface every model variant shares: encode, decode, translate, sample, and NumPy helpers.

Inputs and outputs are in data units (ECG in mV, cine intensity 0..1); each model
normalises internally with statistics stored in its buffers. ``forward(batch)`` returns
the training losses (so DistributedDataParallel can wrap the model as is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..cohort.schema import ECG_MEDIAN_SAMPLES, LEADS, MRI_FRAMES, MRI_SIZE
from .config import ARRAY_OF, model_config
from .losses import Posterior, log_cosh, mse
from .networks import build_decoder, build_encoder
from .normalization import _SCALE_AXES, Standardizer

__all__ = ["MultimodalModel", "SHAPES"]

#: Modality -> per-subject input shape.
SHAPES: dict[str, tuple[int, ...]] = {
    "ecg": (len(LEADS), ECG_MEDIAN_SAMPLES),
    "mri": (MRI_FRAMES, MRI_SIZE, MRI_SIZE),
}
_ALIASES = {v: k for k, v in ARRAY_OF.items()}  # "ecg_median" -> "ecg"


class MultimodalModel(nn.Module):
    """Base class: one encoder, decoder and standardizer per modality, one latent space.

    Subclasses define how modality posteriors are fused (:meth:`fuse`) and the training
    objective (:meth:`forward`).
    """

    architecture: ClassVar[str] = ""

    def __init__(self, config: dict[str, Any] | None = None, **overrides: Any):
        super().__init__()
        cfg = model_config({**(config or {}), "architecture": self.architecture}, **overrides)
        self.config = cfg
        self.modalities: tuple[str, ...] = tuple(cfg["modalities"])
        self.latent_dim = int(cfg["latent_dim"])
        self.encoders = nn.ModuleDict({m: build_encoder(m, cfg) for m in self.modalities})
        self.decoders = nn.ModuleDict({m: build_decoder(m, cfg) for m in self.modalities})
        self.normalizers = nn.ModuleDict({m: Standardizer(SHAPES[m], _SCALE_AXES[m]) for m in self.modalities})
        self.kl_scale = 1.0  # the trainer's KL warm-up factor, multiplies beta
        self.info: dict[str, Any] = {}  # checkpoint metadata (split, cohort fingerprint, metrics)

    # ------------------------------------------------------------------ plumbing
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.parameters())
        return f"{type(self).__name__}(modalities={self.modalities}, latent_dim={self.latent_dim}, params={n:,})"

    def set_normalization(self, stats: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Set the standardizers from :func:`~napari_latent.model.normalization.compute_statistics`."""
        for m in self.modalities:
            self.normalizers[m].set(stats[m]["mean"], stats[m]["scale"])

    def _inputs(self, batch: Mapping[str, Any], modalities: Sequence[str] | None) -> dict[str, torch.Tensor]:
        """Normalised tensors on the model's device for the requested modalities present in ``batch``."""
        present = {_ALIASES.get(k, k): v for k, v in batch.items() if _ALIASES.get(k, k) in SHAPES}
        if modalities is None:
            wanted = [m for m in self.modalities if m in present]
            if not wanted:
                raise ValueError(f"batch has none of this model's modalities {self.modalities}; keys: {list(batch)}")
        else:
            wanted = list(self._check_modalities(modalities))
            missing = [m for m in wanted if m not in present]
            if missing:
                raise ValueError(f"batch has no {missing}; keys: {list(batch)}")
        out = {}
        for m in wanted:
            x = torch.as_tensor(present[m], device=self.device)
            if tuple(x.shape[1:]) != SHAPES[m]:
                raise ValueError(
                    f"{m} batch has shape {tuple(x.shape)}, expected (B, {', '.join(map(str, SHAPES[m]))})"
                )
            out[m] = self.normalizers[m](x)
        return out

    def _check_modalities(self, modalities: Sequence[str] | str | None) -> tuple[str, ...]:
        if modalities is None:
            return self.modalities
        if isinstance(modalities, str):
            modalities = (modalities,)
        mods = tuple(_ALIASES.get(m, m) for m in modalities)
        unknown = [m for m in mods if m not in self.modalities]
        if unknown:
            raise ValueError(f"{type(self).__name__} has no modality {unknown}; it has {self.modalities}")
        return mods

    # ------------------------------------------------------------------ the interface
    def encode(self, batch: Mapping[str, Any], modalities: Sequence[str] | None = None) -> dict[str, Posterior]:
        """Posteriors per modality present (or requested) and ``"fused"``; inputs in data units."""
        x = self._inputs(batch, modalities)
        post = {m: Posterior.from_params(self.encoders[m](v)) for m, v in x.items()}
        post["fused"] = self.fuse(post)
        return post

    def fuse(self, posteriors: Mapping[str, Posterior]) -> Posterior:
        """Inference-time fusion of the available modality posteriors."""
        raise NotImplementedError

    def decode_normalized(self, z: torch.Tensor, modalities: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Decoder outputs in normalised units."""
        z = z.to(self.device, torch.float32)
        return {m: self.decoders[m](z) for m in self._check_modalities(modalities)}

    def decode(self, z: torch.Tensor, modalities: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Decode latents (B, latent_dim) to data units: ECG (B, 12, 600) mV, cine (B, 50, 96, 96) in 0..1."""
        out = {}
        for m, y in self.decode_normalized(z, modalities).items():
            y = self.normalizers[m].inverse(y)
            out[m] = y.clamp(0.0, 1.0) if m == "mri" else y
        return out

    def translate(self, source: str, target: str, x: Any) -> torch.Tensor:
        """Decode ``target`` from the posterior mean of ``source`` data ``x`` (data units)."""
        source, target = self._check_modalities((source, target))
        z = self.encode({source: x}, (source,))[source].mu
        return self.decode(z, (target,))[target]

    def reconstruct(self, batch: Mapping[str, Any], modalities: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Decode every modality from the fused posterior mean of the given inputs."""
        z = self.encode(batch, modalities)["fused"].mu
        return self.decode(z)

    def sample(
        self, n: int, modalities: Sequence[str] | None = None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Decode ``n`` draws from the prior N(0, I)."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z, modalities)

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Training losses: a dict with ``"loss"`` (the objective) and its terms."""
        raise NotImplementedError

    # ------------------------------------------------------------------ losses shared by variants
    def _beta(self) -> float:
        return float(self.config["beta"]) * float(self.kl_scale)

    def recon_losses(
        self, z: torch.Tensor | Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """Log-cosh (ECG) / MSE (cine) per modality between decoded ``z`` and normalised targets.

        ``z`` is one latent batch for all modalities or a dict modality -> latent batch.
        """
        out = {}
        for m, target in targets.items():
            zm = z[m] if isinstance(z, Mapping) else z
            pred = self.decoders[m](zm)
            out[m] = log_cosh(pred, target) if m == "ecg" else mse(pred, target)
        return out

    def weighted(self, recon: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return sum(float(self.config[f"{m}_weight"]) * v for m, v in recon.items())

    # ------------------------------------------------------------------ NumPy helpers for the app
    @torch.inference_mode()
    def encode_numpy(
        self, batch: Mapping[str, np.ndarray], *, batch_size: int = 64, logvar: bool = False
    ) -> dict[str, np.ndarray]:
        """Posterior means per modality and ``"fused"`` as float32 arrays (plus ``"<key>_logvar"``)."""
        n = len(next(iter(batch.values())))
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, n, batch_size):
            post = self.encode({k: np.asarray(v[start : start + batch_size]) for k, v in batch.items()})
            for key, p in post.items():
                parts.setdefault(key, []).append(p.mu.float().cpu().numpy())
                if logvar:
                    parts.setdefault(f"{key}_logvar", []).append(p.logvar.float().cpu().numpy())
        return {k: np.concatenate(v) for k, v in parts.items()}

    def latent_batch(self, z: np.ndarray) -> tuple[np.ndarray, bool]:
        """``(latents (B, D) float32, whether z was one latent (D,))``; ValueError for another shape."""
        z = np.asarray(z, dtype=np.float32)
        single = z.ndim == 1
        z2 = z[None] if single else z
        if z2.ndim != 2 or z2.shape[1] != self.latent_dim:
            raise ValueError(f"z has shape {z.shape}, expected ({self.latent_dim},) or (B, {self.latent_dim})")
        return z2, single

    @torch.inference_mode()
    def decode_numpy(
        self, z: np.ndarray, modalities: Sequence[str] | None = None, *, batch_size: int = 64
    ) -> dict[str, np.ndarray]:
        """Decode latents (B, D) or one latent (D,) to float32 arrays in data units.

        Returns ``{"ecg": (B, 12, 600), "mri": (B, 50, 96, 96)}`` (no batch axis for a 1-D ``z``).
        """
        z2, single = self.latent_batch(z)
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(z2), batch_size):
            for m, y in self.decode(torch.from_numpy(z2[start : start + batch_size]), modalities).items():
                parts.setdefault(m, []).append(y.float().cpu().numpy())
        out = {m: np.concatenate(v) for m, v in parts.items()}
        return {m: v[0] for m, v in out.items()} if single else out

    @torch.inference_mode()
    def translate_numpy(self, source: str, target: str, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
        """:meth:`translate` on NumPy data; one subject (no batch axis) or a batch."""
        x = np.asarray(x)
        source = _ALIASES.get(source, source)
        single = x.ndim == len(SHAPES.get(source, ()))
        xb = x[None] if single else x
        out = [
            self.translate(source, target, xb[s : s + batch_size]).float().cpu().numpy()
            for s in range(0, len(xb), batch_size)
        ]
        y = np.concatenate(out)
        return y[0] if single else y

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over the architecture and every weight and buffer."""
        h = hashlib.sha256(self.architecture.encode())
        for key, value in sorted(self.state_dict().items()):
            h.update(key.encode())
            h.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return h.hexdigest()[:16]
