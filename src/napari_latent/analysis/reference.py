"""A model's reference statistics: ``reference.json`` beside its weights.

Written by ``scripts/model_reference.py`` from the model's own cohort (training subjects for
the measurement relations, held-out subjects for typicality) and read here. Holds:

- ``lv_territory``: where the cohort's labels put the LV (packed bits, (H, W)), which tells
  :func:`~napari_latent.analysis.measure.segment_lv` which bright component is the LV;
- ``relations``: per phenotype column, the cohort's own relation between the label and the
  same measurement on reconstructions of training subjects, ``measurement = intercept +
  slope * label`` (with r and n): what a labelled unit looks like on a decoded heart;
- ``typicality``: latent density and reconstruction-error statistics and the held-out
  subjects' scores (see :mod:`napari_latent.analysis.typicality`).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["REFERENCE_FILE", "read_reference", "write_reference", "pack_mask", "unpack_mask", "reference_of"]

REFERENCE_FILE = "reference.json"
REFERENCE_VERSION = 1


def pack_mask(mask: np.ndarray) -> dict[str, Any]:
    mask = np.asarray(mask, bool)
    return {"shape": list(mask.shape), "bits": base64.b64encode(np.packbits(mask.ravel()).tobytes()).decode()}


def unpack_mask(data: dict[str, Any]) -> np.ndarray:
    shape = tuple(data["shape"])
    bits = np.frombuffer(base64.b64decode(data["bits"]), dtype=np.uint8)
    return np.unpackbits(bits)[: int(np.prod(shape))].reshape(shape).astype(bool)


def read_reference(path: str | os.PathLike) -> dict[str, Any] | None:
    """The reference statistics of the checkpoint directory ``path``, or None if it has none."""
    file = Path(path) / REFERENCE_FILE
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: not a readable reference file ({exc})") from exc
    if data.get("version", 0) > REFERENCE_VERSION:
        raise ValueError(f"{file}: reference version {data['version']} is newer than this napari-latent reads")
    return data


def write_reference(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write ``reference.json`` into the checkpoint directory ``path`` (atomically)."""
    file = Path(path) / REFERENCE_FILE
    tmp = file.with_name(f".{file.name}.tmp")
    tmp.write_text(json.dumps({"version": REFERENCE_VERSION, **data}, indent=1) + "\n")
    os.replace(tmp, file)
    return file


def reference_of(model: Any) -> dict[str, Any] | None:
    """The reference statistics of a loaded model (cached on it), or None."""
    cached = getattr(model, "_reference_cache", False)
    if cached is not False:
        return cached
    path = getattr(model, "info", {}).get("path")
    ref = None
    if path:
        ref = read_reference(path)
    if ref is None and getattr(model, "info", {}).get("weights", {}).get("sha256"):
        from ..model import demo_model_path

        demo = demo_model_path()
        cfg = demo / "config.json"
        if cfg.is_file():
            sha = json.loads(cfg.read_text()).get("weights", {}).get("sha256")
            if sha == model.info["weights"]["sha256"]:
                ref = read_reference(demo)
    try:
        model._reference_cache = ref
    except AttributeError:
        pass
    return ref
