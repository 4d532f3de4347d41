"""``build_model(config)``: the architecture registry."""

from __future__ import annotations

from typing import Any

from .base import MultimodalModel
from .config import model_config
from .vae import CrossModalVAE
from .variants import MoPoEVAE, PoEVAE, UnimodalAE, UnimodalVAE

__all__ = ["ARCHITECTURES", "build_model", "register_architecture"]

ARCHITECTURES: dict[str, type[MultimodalModel]] = {
    "cross_modal_vae": CrossModalVAE,
    "mvae": PoEVAE,
    "mopoe": MoPoEVAE,
    "unimodal_vae": UnimodalVAE,
    "unimodal_ae": UnimodalAE,
}


def register_architecture(name: str, cls: type[MultimodalModel]) -> None:
    """Make ``cls`` buildable as ``{"architecture": name}``."""
    ARCHITECTURES[name] = cls


def build_model(config: dict[str, Any] | None = None, **overrides: Any) -> MultimodalModel:
    """A freshly initialised model of ``config["architecture"]`` (default ``"cross_modal_vae"``)."""
    cfg = model_config(config, **overrides)
    name = cfg["architecture"]
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; available: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name](cfg)
