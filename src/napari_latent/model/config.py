"""Model and training configuration: plain dicts/dataclasses that round-trip through JSON."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..cohort.schema import (
    ECG_FS,
    ECG_MEDIAN_R_INDEX,
    ECG_MEDIAN_SAMPLES,
    ECG_UNIT,
    LEADS,
    MRI_FRAMES,
    MRI_PIXEL_SPACING_MM,
    MRI_SIZE,
    SCHEMA_VERSION,
)

__all__ = [
    "MODALITIES",
    "ARRAY_OF",
    "DEFAULT_MODEL_CONFIG",
    "TrainConfig",
    "input_schema",
    "model_config",
    "resolve_config",
    "NETWORK_SIZES",
]

#: Model modality name -> cohort array it reads.
ARRAY_OF: dict[str, str] = {"ecg": "ecg_median", "mri": "mri"}
MODALITIES: tuple[str, ...] = tuple(ARRAY_OF)

#: Defaults shared by every architecture; ``build_model`` fills missing keys from here.
DEFAULT_MODEL_CONFIG: dict[str, Any] = {
    "architecture": "cross_modal_vae",
    "modalities": ["ecg", "mri"],
    "latent_dim": 256,
    # networks
    "ecg_channels": [32, 64, 64, 128, 128],  # encoder, one strided conv per entry (600 -> 19)
    "ecg_decoder_channels": [64, 64, 32],  # decoder, from length 75 up to 600
    "mri_channels": [32, 64, 96, 128],  # encoder: 2x2 patchify then stride-2 convs (96 -> 6)
    "mri_decoder_channels": [128, 96, 64, 32],  # decoder: 6 -> 12 -> 24 -> 48 -> 96
    "groups": 8,  # GroupNorm groups
    # objective
    "beta": 1e-3,  # weight of the KL term (sum over latent dims, mean over batch)
    "contrastive_weight": 0.1,  # symmetric InfoNCE between the modality means
    "temperature": 0.07,  # initial InfoNCE temperature (learnable)
    "ecg_weight": 1.0,  # log-cosh on normalised ECG
    "mri_weight": 1.0,  # MSE on normalised cine
    "modality_dropout": 0.0,  # probability a training sample uses one modality for the whole vector
    "modality": None,  # unimodal architectures: which modality
}


#: Network-size presets (model config overrides): "tiny" for tests and quick trials,
#: "small" for a laptop, "full" for DEFAULT_MODEL_CONFIG's networks.
NETWORK_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"ecg_channels": [8, 8], "ecg_decoder_channels": [8], "mri_channels": [8, 8],
             "mri_decoder_channels": [8, 8], "groups": 4},
    "small": {"ecg_channels": [16, 32, 32, 64], "ecg_decoder_channels": [32, 16], "mri_channels": [16, 32, 48],
              "mri_decoder_channels": [48, 32, 16], "groups": 8},
    "full": {},
}  # fmt: skip


def model_config(config: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete model config: defaults, then ``config``, then ``overrides``; unknown keys refused."""
    out = copy.deepcopy(DEFAULT_MODEL_CONFIG)
    for src in (config or {}), overrides:
        unknown = set(src) - set(out)
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; known: {sorted(out)}")
        out.update(copy.deepcopy(src))
    if out["architecture"] in ("unimodal_vae", "unimodal_ae"):
        mod = out["modality"]
        if mod not in MODALITIES:
            raise ValueError(f"architecture {out['architecture']!r} needs modality='ecg' or 'mri', got {mod!r}")
        out["modalities"] = [mod]
    out["modalities"] = [m for m in MODALITIES if m in out["modalities"]]
    if not out["modalities"]:
        raise ValueError(f"modalities must be a subset of {MODALITIES}")
    return out


@dataclass
class TrainConfig:
    """Training hyperparameters (all JSON-serialisable)."""

    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    scheduler: str = "cosine"  # "cosine" (with linear warm-up), "plateau" or "constant"
    warmup_steps: int = 50
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    min_lr: float = 1e-5
    val_fraction: float = 0.2
    seed: int = 0
    patience: int = 8  # early stopping: epochs without validation improvement; 0 disables
    min_delta: float = 1e-4
    grad_clip: float = 5.0
    kl_warmup_epochs: int = 5  # beta ramps linearly from 0 over these epochs
    num_workers: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: bool = True  # bf16 autocast on CUDA
    num_threads: int | None = None  # torch.set_num_threads on CPU
    cpu_malloc_tuning: bool = True  # Linux/glibc CPU training: keep freed memory (~1.5x faster steps)
    max_steps: int | None = None  # stop after this many optimiser steps (smoke runs)
    log_every: int = 10  # steps between "step" callbacks
    norm_max_subjects: int = 2000  # training subjects used for normalisation statistics
    train_indices: list[int] | None = field(default=None, repr=False)  # explicit split (else from seed)
    val_indices: list[int] | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TrainConfig:
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training config keys {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("train_indices")
        d.pop("val_indices")
        return d


def resolve_config(config: dict[str, Any] | None = None) -> tuple[dict[str, Any], TrainConfig]:
    """Split a config into (model config, TrainConfig).

    Accepts ``{"model": {...}, "train": {...}}`` or one flat dict whose keys are sorted
    into model and training keys by name (handy for ``--set key=value`` on a CLI), or a mix.
    ``"size"`` (``"tiny"``, ``"small"`` or ``"full"``, flat or under ``"model"``) expands to the
    :data:`NETWORK_SIZES` preset; explicit network keys win over the preset. Unknown keys, and a
    training key under ``"model"`` (or a model key under ``"train"``), are refused by name.
    """
    config = dict(config or {})
    model_part = dict(config.pop("model", {}) or {})
    train_part = config.pop("train", {}) or {}
    train_part = train_part.to_dict() if isinstance(train_part, TrainConfig) else dict(train_part)
    train_names = {f.name for f in fields(TrainConfig)}
    model_names = set(DEFAULT_MODEL_CONFIG) | {"size"}
    misplaced = [f"{k!r} (a training key) under 'model'" for k in model_part if k in train_names]
    misplaced += [f"{k!r} (a model key) under 'train'" for k in train_part if k in model_names]
    if misplaced:
        raise ValueError(f"misplaced config keys: {', '.join(misplaced)}; move them, or give them at the top level")
    unknown = []
    for key, value in config.items():
        if key in model_names:
            model_part[key] = value
        elif key in train_names:
            train_part[key] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f"unknown config key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, sorted(unknown)))}; model keys: {sorted(model_names)}, "
            f"training keys: {sorted(train_names)}"
        )
    size = model_part.pop("size", None)
    if size is not None:
        if size not in NETWORK_SIZES:
            raise ValueError(f"unknown network size {size!r}; choose one of {sorted(NETWORK_SIZES)}")
        model_part = {**NETWORK_SIZES[size], **model_part}
    return model_config(model_part), TrainConfig.from_dict(train_part)


def input_schema() -> dict[str, Any]:
    """The input schema a model is built for (stored in every checkpoint)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "ecg_median": {
            "shape": [len(LEADS), ECG_MEDIAN_SAMPLES],
            "leads": list(LEADS),
            "sampling_rate_hz": ECG_FS,
            "r_peak_index": ECG_MEDIAN_R_INDEX,
            "unit": ECG_UNIT,
            "dtype": "float32",
        },
        "mri": {
            "shape": [MRI_FRAMES, MRI_SIZE, MRI_SIZE],
            "pixel_spacing_mm": MRI_PIXEL_SPACING_MM,
            "unit": "1",
            "range": [0.0, 1.0],
            "dtype": "float16",
        },
    }
