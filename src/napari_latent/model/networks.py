"""Encoders and decoders: 1-D conv for the (12, 600) median beat, 2-D conv for the (50, 96, 96) cine.

Encoders map normalised inputs to ``2 * latent_dim`` posterior parameters (mean, log-variance);
decoders map a latent vector to normalised outputs (linear, no squashing).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..cohort.schema import ECG_MEDIAN_SAMPLES, LEADS, MRI_FRAMES, MRI_SIZE

__all__ = ["ECGEncoder", "ECGDecoder", "MRIEncoder", "MRIDecoder", "build_encoder", "build_decoder"]


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    g = groups
    while channels % g:
        g -= 1
    return nn.GroupNorm(g, channels)


def _block(conv: nn.Module, channels: int, groups: int) -> list[nn.Module]:
    return [conv, _norm(channels, groups), nn.SiLU()]


class ECGEncoder(nn.Sequential):
    """Strided 1-D convs (stride 2 each) then a linear head: (B, 12, 600) -> (B, 2 * latent_dim)."""

    def __init__(self, latent_dim: int, channels: Sequence[int] = (32, 64, 64, 128, 128), groups: int = 8):
        layers: list[nn.Module] = _block(nn.Conv1d(len(LEADS), channels[0], 7, 2, 3), channels[0], groups)
        length = (ECG_MEDIAN_SAMPLES + 1) // 2
        for cin, cout in zip(channels[:-1], channels[1:], strict=True):
            layers += _block(nn.Conv1d(cin, cout, 5, 2, 2), cout, groups)
            length = (length + 1) // 2
        super().__init__(*layers, nn.Flatten(), nn.Linear(channels[-1] * length, 2 * latent_dim))


class ECGDecoder(nn.Module):
    """Linear to (C, 600 / 2**k), k transposed convs (x2 each), then a conv to 12 leads."""

    def __init__(self, latent_dim: int, channels: Sequence[int] = (64, 64, 32), groups: int = 8):
        super().__init__()
        if ECG_MEDIAN_SAMPLES % 2 ** len(channels):
            raise ValueError(f"{ECG_MEDIAN_SAMPLES} samples cannot be reached by {len(channels)} doublings")
        self.start = (channels[0], ECG_MEDIAN_SAMPLES // 2 ** len(channels))
        self.fc = nn.Linear(latent_dim, self.start[0] * self.start[1])
        layers: list[nn.Module] = []
        cin = channels[0]
        for cout in channels:
            layers += _block(nn.ConvTranspose1d(cin, cout, 4, 2, 1), cout, groups)
            cin = cout
        layers.append(nn.Conv1d(cin, len(LEADS), 7, 1, 3))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(len(z), *self.start))


class MRIEncoder(nn.Sequential):
    """Frames as channels: a 2x2 patchify conv (96 -> 48), stride-2 convs, a linear head."""

    def __init__(self, latent_dim: int, channels: Sequence[int] = (32, 64, 96, 128), groups: int = 8):
        layers: list[nn.Module] = _block(nn.Conv2d(MRI_FRAMES, channels[0], 2, 2), channels[0], groups)
        size = MRI_SIZE // 2
        for cin, cout in zip(channels[:-1], channels[1:], strict=True):
            layers += _block(nn.Conv2d(cin, cout, 3, 2, 1), cout, groups)
            size = (size + 1) // 2
        super().__init__(*layers, nn.Flatten(), nn.Linear(channels[-1] * size * size, 2 * latent_dim))


class MRIDecoder(nn.Module):
    """Linear to (C, 6, 6), transposed convs (x2 each) to 48x48, a 1x1 conv + pixel shuffle to 96x96.

    The last step predicts each 2x2 output block from one 48x48 feature vector, which keeps
    decoding one latent to a full cine at a few milliseconds on a laptop CPU.
    """

    def __init__(self, latent_dim: int, channels: Sequence[int] = (128, 96, 64, 32), groups: int = 8):
        super().__init__()
        size = MRI_SIZE // 2 ** len(channels)
        if size * 2 ** len(channels) != MRI_SIZE:
            raise ValueError(f"{MRI_SIZE} pixels cannot be reached by {len(channels)} doublings")
        self.start = (channels[0], size, size)
        self.fc = nn.Linear(latent_dim, channels[0] * size * size)
        layers: list[nn.Module] = []
        for cin, cout in zip(channels[:-1], channels[1:], strict=True):
            layers += _block(nn.ConvTranspose2d(cin, cout, 4, 2, 1), cout, groups)
        layers += [nn.Conv2d(channels[-1], 4 * MRI_FRAMES, 1), nn.PixelShuffle(2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(len(z), *self.start))


def build_encoder(modality: str, config: dict) -> nn.Module:
    """The encoder of ``modality`` ("ecg" or "mri") for a model config."""
    if modality == "ecg":
        return ECGEncoder(config["latent_dim"], config["ecg_channels"], config["groups"])
    if modality == "mri":
        return MRIEncoder(config["latent_dim"], config["mri_channels"], config["groups"])
    raise ValueError(f"unknown modality {modality!r}; expected 'ecg' or 'mri'")


def build_decoder(modality: str, config: dict) -> nn.Module:
    """The decoder of ``modality`` for a model config."""
    if modality == "ecg":
        return ECGDecoder(config["latent_dim"], config["ecg_decoder_channels"], config["groups"])
    if modality == "mri":
        return MRIDecoder(config["latent_dim"], config["mri_decoder_channels"], config["groups"])
    raise ValueError(f"unknown modality {modality!r}; expected 'ecg' or 'mri'")
