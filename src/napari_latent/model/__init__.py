"""Multimodal generative models of paired cine MRI and 12-lead ECG (torch; no Qt).

Quick use::

    from napari_latent.model import train, load_model, embed
    result = train(cohort, {"latent_dim": 64, "epochs": 30}, "runs/my-model")
    model = load_model("runs/my-model", cohort)
    z = embed(cohort, model)["fused"]                 # (N, latent_dim)
    out = model.decode_numpy(z[0])                    # {"ecg": (12, 600) mV, "mri": (50, 96, 96) 0..1}
"""

from .base import SHAPES, MultimodalModel
from .checkpoint import (
    CheckpointError,
    CheckpointExistsError,
    SchemaMismatchError,
    check_schema,
    demo_model_path,
    load_demo_model,
    load_model,
    read_config,
    resolve_model,
    save_checkpoint,
)
from .config import DEFAULT_MODEL_CONFIG, MODALITIES, NETWORK_SIZES, TrainConfig, input_schema, model_config, resolve_config
from .data import CohortDataset, split_indices
from .evaluate import evaluate as evaluate_model
from .inference import benchmark_decode, embed
from .losses import Posterior
from .registry import ARCHITECTURES, build_model, register_architecture
from .run import TrainOutcome, run_training
from .train import Trainer, TrainResult, train
from .vae import CrossModalVAE
from .variants import MoPoEVAE, PoEVAE, UnimodalAE, UnimodalVAE

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_MODEL_CONFIG",
    "MODALITIES",
    "NETWORK_SIZES",
    "SHAPES",
    "CheckpointError",
    "CheckpointExistsError",
    "CohortDataset",
    "CrossModalVAE",
    "MoPoEVAE",
    "MultimodalModel",
    "PoEVAE",
    "Posterior",
    "SchemaMismatchError",
    "TrainConfig",
    "TrainOutcome",
    "TrainResult",
    "Trainer",
    "UnimodalAE",
    "UnimodalVAE",
    "benchmark_decode",
    "build_model",
    "check_schema",
    "demo_model_path",
    "embed",
    "evaluate_model",
    "input_schema",
    "load_demo_model",
    "load_model",
    "model_config",
    "read_config",
    "register_architecture",
    "resolve_config",
    "resolve_model",
    "run_training",
    "save_checkpoint",
    "split_indices",
    "train",
]
