"""Checkpoints: a directory of ``weights.safetensors`` + ``config.json`` (never pickle).

Layout::

    weights.safetensors          model weights and normalisation templates (float32/16, bf16)
    config.json                  architecture + hyperparameters, input schema, normalisation
                                 summary, versions, training summary, cohort fingerprint, split
    training_state.safetensors   optional: last weights, optimiser moments, RNG (for resume)

Saving writes a hidden temporary directory beside the target and renames it into place;
an existing checkpoint is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .._atomic import build_dir
from .._meta import package_version
from ..cohort import Cohort
from ..cohort.schema import ECG_FS, ECG_UNIT, LEADS, SCHEMA_VERSION
from .base import MultimodalModel
from .config import ARRAY_OF, input_schema
from .registry import build_model

__all__ = [
    "WEIGHTS_FILE",
    "CONFIG_FILE",
    "STATE_FILE",
    "CheckpointError",
    "CheckpointExistsError",
    "SchemaMismatchError",
    "save_checkpoint",
    "read_config",
    "load_tensors",
    "load_model",
    "check_schema",
    "demo_model_path",
    "load_demo_model",
    "resolve_model",
]

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "training_state.safetensors"
FORMAT = "napari-latent-checkpoint"
FORMAT_VERSION = 1
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None):
        self.path = None if path is None else str(path)
        self.reason = message
        super().__init__(f"checkpoint {self.path}: {message}" if self.path else message)


class CheckpointExistsError(CheckpointError, FileExistsError):
    """Raised instead of overwriting an existing checkpoint."""


class SchemaMismatchError(CheckpointError):
    """The checkpoint's input schema does not fit the cohort (or this version of the package)."""


# ---------------------------------------------------------------------------------------------- save
def _versions() -> dict[str, str]:
    return {"napari_latent": package_version(), "torch": torch.__version__, "python": platform.python_version()}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(
    model: MultimodalModel,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, Any] | None = None,
    state: Mapping[str, torch.Tensor] | None = None,
    dtype: str = "float32",
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as a checkpoint directory at ``path``; returns the path.

    ``metadata`` is merged into config.json (the trainer adds "training" and "data");
    ``state`` tensors (resume state) go to training_state.safetensors; ``dtype`` is the
    storage type of floating-point weights ("float32", "float16" or "bfloat16").
    """
    path = Path(path).expanduser().absolute()
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
    if path.exists() and not overwrite:
        raise CheckpointExistsError("a checkpoint already exists here; pass overwrite=True to replace it", path=path)

    def build(tmp: Path) -> None:
        tensors = {
            k: (v.detach().to("cpu", _DTYPES[dtype]) if v.is_floating_point() else v.detach().cpu()).contiguous()
            for k, v in model.state_dict().items()
        }
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": "pt", "architecture": model.architecture})
        if state:
            save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp / STATE_FILE))
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": model.config,
            "input_schema": input_schema(),
            "normalization": {
                m: {**model.normalizers[m].summary(), "tensors": [f"normalizers.{m}.mean", f"normalizers.{m}.scale"]}
                for m in model.modalities
            },
            "weights": {
                "file": WEIGHTS_FILE,
                "dtype": dtype,
                "sha256": _sha256(tmp / WEIGHTS_FILE),
                "n_parameters": int(sum(p.numel() for p in model.parameters())),
                "model_fingerprint": model.fingerprint(),
            },
            "versions": _versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **dict(metadata or {}),
        }
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1, allow_nan=True) + "\n")
        _readable(tmp)

    build_dir(
        path,
        build,
        overwrite=overwrite,
        exists_error=lambda p: CheckpointExistsError(
            "a checkpoint already exists here; pass overwrite=True to replace it", path=p
        ),
    )
    return path


def _readable(folder: Path) -> None:
    """Files and folder get the usual permissions (safetensors writes 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for f in folder.iterdir():
        f.chmod(0o666 & ~umask)
    folder.chmod(0o777 & ~umask)


# ---------------------------------------------------------------------------------------------- load
def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed config.json of a checkpoint directory (clear errors when missing or corrupt)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError("no such checkpoint directory", path=path)
    if not path.is_dir():
        raise CheckpointError(
            f"not a checkpoint directory (expected a folder with {WEIGHTS_FILE} and {CONFIG_FILE})", path=path
        )
    file = path / CONFIG_FILE
    if not file.is_file():
        raise CheckpointError(f"{CONFIG_FILE} is missing", path=path)
    try:
        config = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read {CONFIG_FILE}: {exc}", path=path) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT or "model" not in config:
        raise CheckpointError(f"{CONFIG_FILE} is not a napari-latent checkpoint config", path=path)
    if int(config.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint format {config['format_version']} is newer than this napari-latent reads ({FORMAT_VERSION}); "
            "upgrade napari-latent",
            path=path,
        )
    return config


def load_tensors(
    path: str | os.PathLike, file: str = WEIGHTS_FILE, *, sha256: str | None = None
) -> dict[str, torch.Tensor]:
    """Tensors of one safetensors file of a checkpoint; a missing, corrupt or altered file is refused."""
    path = Path(path).expanduser()
    target = path / file
    if not target.is_file():
        raise CheckpointError(f"{file} is missing", path=path)
    if sha256 is not None and _sha256(target) != sha256:
        raise CheckpointError(
            f"{file} does not match the checksum in {CONFIG_FILE}: the file is corrupt or was replaced", path=path
        )
    try:
        return load_file(str(target), device="cpu")
    except Exception as exc:  # safetensors raises SafetensorError / OSError on bad headers or truncation
        raise CheckpointError(f"cannot read {file}: {exc} (the file is corrupt or truncated)", path=path) from exc


def _schema_differences(expected: Mapping[str, Any], actual: Mapping[str, Any], modalities, what: str) -> list[str]:
    diffs = []
    if int(expected.get("schema_version", SCHEMA_VERSION)) > int(actual.get("schema_version", SCHEMA_VERSION)):
        diffs.append(f"input schema version {expected['schema_version']}, {what} has {actual['schema_version']}")
    for m in modalities:
        name = ARRAY_OF[m]
        exp, act = expected.get(name, {}), actual.get(name)
        if act is None:
            diffs.append(f"{name} {tuple(exp.get('shape', ()))}, {what} has no {name}")
            continue
        if tuple(exp.get("shape", ())) != tuple(act["shape"]):
            diffs.append(f"{name} {tuple(exp['shape'])}, {what} has {tuple(act['shape'])}")
        for key, label in (("leads", "leads"), ("sampling_rate_hz", "sampling rate (Hz)"), ("unit", "unit")):
            if key in exp and key in act and exp[key] != act[key]:
                diffs.append(f"{name} {label} {exp[key]}, {what} has {act[key]}")
    return diffs


def _cohort_schema(cohort: Cohort) -> dict[str, Any]:
    attrs = cohort.attrs or {}
    out: dict[str, Any] = {"schema_version": int(attrs.get("schema_version", SCHEMA_VERSION))}
    if getattr(cohort, "ecg_median", None) is not None:
        out["ecg_median"] = {
            "shape": list(cohort.ecg_median.shape[1:]),
            "leads": list(attrs.get("leads", LEADS)),
            "sampling_rate_hz": attrs.get("ecg_fs", ECG_FS),
            "unit": attrs.get("ecg_unit", ECG_UNIT),
        }
    if getattr(cohort, "mri", None) is not None:
        out["mri"] = {"shape": list(cohort.mri.shape[1:])}
    return out


def check_schema(
    config: Mapping[str, Any], cohort: Cohort | None = None, path: str | os.PathLike | None = None
) -> None:
    """Refuse (SchemaMismatchError) when the checkpoint's inputs differ from the cohort's or this package's."""
    expected = config.get("input_schema", {})
    mods = config["model"].get("modalities", list(ARRAY_OF))
    diffs = _schema_differences(expected, input_schema(), mods, "this napari-latent")
    if diffs:
        raise SchemaMismatchError("expects " + "; ".join(diffs), path=path)
    if cohort is not None:
        diffs = _schema_differences(expected, _cohort_schema(cohort), mods, "cohort")
        if diffs:
            where = f" ({cohort.path})" if getattr(cohort, "path", None) else ""
            raise SchemaMismatchError("expects " + "; ".join(diffs) + where, path=path)


def load_model(
    path: str | os.PathLike,
    cohort: Cohort | None = None,
    *,
    device: str | torch.device = "cpu",
    verify: bool = True,
) -> MultimodalModel:
    """Load a checkpoint directory as a model in eval mode (safetensors + JSON only).

    With ``cohort`` the input schema is checked against it; ``verify`` checks the
    weights file against the SHA-256 in config.json. ``model.info`` holds the
    checkpoint's metadata (training summary, cohort fingerprint, validation indices).
    """
    path = Path(path).expanduser().absolute()
    config = read_config(path)
    check_schema(config, cohort, path)
    try:
        model = build_model(config["model"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{CONFIG_FILE} describes a model this napari-latent cannot build: {exc}", path=path
        ) from exc
    sha = config.get("weights", {}).get("sha256") if verify else None
    tensors = load_tensors(path, WEIGHTS_FILE, sha256=sha)
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    wrong = sorted(k for k in set(own) & set(tensors) if tuple(own[k].shape) != tuple(tensors[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected tensors {unexpected[:5]}")
        if wrong:
            k = wrong[0]
            parts.append(f"tensor {k} has shape {tuple(tensors[k].shape)}, the model expects {tuple(own[k].shape)}")
        raise CheckpointError(f"{WEIGHTS_FILE} does not fit {CONFIG_FILE}: " + "; ".join(parts), path=path)
    model.load_state_dict(tensors)
    model.info = {k: v for k, v in config.items() if k not in ("model",)}
    model.info["path"] = str(path)
    return model.to(device).eval()


# ---------------------------------------------------------------------------------------------- demo
def demo_model_path() -> Path:
    """Where the shipped demo checkpoint lives inside the installed package."""
    return Path(str(resources.files("napari_latent").joinpath("_data", "demo_model")))


def load_demo_model(device: str | torch.device = "cpu") -> MultimodalModel:
    """The small pretrained demo model shipped with the package."""
    res = resources.files("napari_latent").joinpath("_data", "demo_model")
    if not res.joinpath(CONFIG_FILE).is_file() or not res.joinpath(WEIGHTS_FILE).is_file():
        raise CheckpointError(
            "the demo model has not been trained yet (no weights.safetensors/config.json); "
            "run `python scripts/train_demo_model.py` in the repository",
            path=str(res),
        )
    if isinstance(res, Path):
        return load_model(res, device=device)
    with tempfile.TemporaryDirectory() as tmp:  # packaged in a zip: copy the two files out
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            Path(tmp, name).write_bytes(res.joinpath(name).read_bytes())
        return load_model(tmp, device=device)


def resolve_model(model: Any, cohort: Cohort) -> MultimodalModel | None:
    """A model from a checkpoint path, ``"demo"`` (the shipped model) or a model (returned as is).

    Parameters
    ----------
    model
        A checkpoint folder, ``"demo"``, a :class:`~napari_latent.model.MultimodalModel` or None.
    cohort
        The cohort the model must fit.

    Returns
    -------
    MultimodalModel or None
        The model (None for None).

    Raises
    ------
    SchemaMismatchError
        The checkpoint's input schema does not fit ``cohort``; the message says what differs.
    """
    if model is None or not isinstance(model, str | os.PathLike):
        return model
    if str(model) == "demo":
        check_schema(read_config(demo_model_path()), cohort, demo_model_path())
        return load_demo_model()
    return load_model(model, cohort)
