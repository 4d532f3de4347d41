"""Train a model into a folder that appears only when training finishes.

:func:`run_training` is what the training panel (and any other front end) runs in a worker:
the trainer writes into a hidden staging folder beside the chosen output folder, which is
published with :func:`napari_latent._atomic.replace_dir` only when training finishes, so a
cancelled or failed run leaves no checkpoint behind, and an existing checkpoint is replaced
only when asked and only by a finished one.
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import replace_dir

if TYPE_CHECKING:
    from ..cohort import Cohort

__all__ = ["TrainOutcome", "run_training"]


@dataclass
class TrainOutcome:
    """What a training run ended with.

    Attributes
    ----------
    status
        ``"completed"``, ``"early_stopped"``, ``"max_steps"`` or ``"cancelled"``.
    checkpoint
        The installed checkpoint folder (None unless it finished).
    epochs
        Epochs run.
    best_val_loss
        The best validation loss.
    """

    status: str
    checkpoint: Path | None
    epochs: int = 0
    best_val_loss: float = math.nan


def _is_checkpoint(path: Path) -> bool:
    return (path / "config.json").is_file()


def run_training(
    cohort: Cohort,
    config: dict[str, Any],
    out_dir: Path,
    *,
    replace: bool,
    callback: Callable[..., Any] | None,
    should_stop: Callable[[], bool] | None,
) -> TrainOutcome:
    """Train into a staging folder beside ``out_dir``; move it into place only when finished.

    Parameters
    ----------
    cohort
        The cohort to train on.
    config
        ``{"model": {...}, "train": {...}}`` as :func:`~napari_latent.model.train` takes.
    out_dir
        Where the checkpoint goes.
    replace
        Whether an existing checkpoint at ``out_dir`` may be replaced (anything else there
        is never replaced).
    callback, should_stop
        Passed to :func:`~napari_latent.model.train`.

    Returns
    -------
    TrainOutcome
        The status and, unless cancelled, the published checkpoint.

    Raises
    ------
    FileExistsError
        Something appeared at ``out_dir`` while training that may not be replaced.
    """
    from .train import train

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.training-{uuid.uuid4().hex[:8]}"
    try:
        result = train(cohort, config, staging, callbacks=callback, should_stop=should_stop)
        if result.status == "cancelled" or result.checkpoint is None:
            return TrainOutcome("cancelled", None, result.epoch, result.best_val_loss)
        replace_dir(
            staging,
            out_dir,
            overwrite=replace and _is_checkpoint(out_dir),
            exists_error=lambda p: FileExistsError(f"{p} appeared while training; the new model stays unsaved"),
        )
        return TrainOutcome(result.status, out_dir, result.epoch, result.best_val_loss)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
