"""Training panel: a form for the model options, training in a worker with live loss curves.

"Train" runs :func:`napari_latent.model.run.run_training` on the Explorer's cohort in a napari
worker. The trainer writes into a hidden staging directory beside the chosen output directory,
which is moved into place only when training finishes, so a cancelled or failed run leaves
no checkpoint behind (and an existing checkpoint is replaced only after asking, and only by
a finished one). The new checkpoint is then read back and the cohort embedded with it in a
worker; the model and its embeddings are installed in the Explorer together, so the views
redraw once (with no blank "no embedding" frame in between) and the Qt thread never reads
weights. Progress reaches the widgets at most every ``PROGRESS_INTERVAL_S``.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui import widgets as mw
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .._qt.notify import notify_error
from .._qt.progress import set_progress
from .._qt.worker import start_worker
from ..plots.mini_plot import MiniPlot

if TYPE_CHECKING:
    from ...model.run import TrainOutcome
    from ...explorer import Explorer

__all__ = ["TrainingPanel", "preload_optimizer_imports"]

#: Network width presets: "tiny" trains in seconds on a laptop, "full" is the paper-scale default.
CURVES = {  # trainer key -> (legend, colour)
    "loss": ("train loss", "#56b4e9"),
    "ecg_recon": ("ECG recon (train)", "#009e73"),
    "mri_recon": ("MRI recon (train)", "#cc79a7"),
    "val_loss": ("validation loss", "#e69f00"),
}


#: Least time between two progress-bar updates: a QProgressBar repaints synchronously, and
#: where OpenGL is rendered in software each repaint composes every canvas in the window.
PROGRESS_INTERVAL_S = 0.1


_preloaded = threading.Event()
_preload_lock = threading.Lock()
_preload_started = False


def preload_optimizer_imports() -> threading.Event:
    """Import what the first torch optimizer imports, in a background thread; set when done.

    Building the first optimizer in a process imports ``torch._dynamo`` (about a second;
    parts of it hold the GIL for 0.2-0.3 s at a time). Done in the training worker, that
    froze the UI just after "Train" was pressed; the panel starts it while the explorer opens.
    """
    global _preload_started
    with _preload_lock:
        if not _preload_started:
            _preload_started = True

            def run() -> None:
                try:
                    import torch._dynamo  # noqa: F401
                finally:
                    _preloaded.set()

            threading.Thread(target=run, name="napari-latent-preload", daemon=True).start()
    return _preloaded


def _is_checkpoint(path: Path) -> bool:
    return (path / "config.json").is_file()


class TrainingPanel(QWidget):
    """Model options (a magicgui form), Train / Cancel, progress and live loss curves.

    Signals (on the Qt thread): ``training_event(dict)`` for each trainer event ("start",
    "step", "epoch", "checkpoint", "end"), ``training_finished(status)`` once the panel is
    idle again: "completed" (and friends) after the new model is loaded and embedded,
    "cancelled" or "failed".
    """

    training_event = Signal(object)
    training_finished = Signal(str)
    _event = Signal(object)  # emitted on the worker thread; bridged to training_event
    _embed_progress = Signal(int, int)

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self._worker = None
        self._stop = threading.Event()
        self._pbar = None
        self._steps_per_epoch = 1
        self._outcome: TrainOutcome | None = None  # set while the new model is being embedded
        self._progress: tuple[int | None, int, str, int | None] | None = None  # waiting to be shown
        self._progress_at = -math.inf
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._apply_progress)
        self.form = self._make_form()

        self.train_button = QPushButton("Train", clicked=lambda: self.start())
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.cancel)
        self.train_button.setToolTip("Train a new model on this cohort; it replaces the Explorer's model when done")
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button, 1)
        buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar(textVisible=True)
        self.progress_bar.setFormat("idle")
        self.progress_bar.setValue(0)
        self.status = QLabel(f"{len(explorer.cohort):,} subjects; training runs on {self._device_name()}.")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing())
        self.plot = MiniPlot(title="Loss", xlabel="epoch", ylabel="loss")
        self.plot.clear("Loss curves appear here while the model trains")

        layout = QVBoxLayout(self)
        layout.addWidget(self.form.native)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self._event.connect(self._on_event)
        stop = self._stop
        self.destroyed.connect(lambda *_: stop.set())  # a closed panel stops its run
        self._embed_progress.connect(self._on_embed_progress)
        preload_optimizer_imports()

    # ------------------------------------------------------------------ the form
    def _make_form(self) -> mw.Container:
        from ...model import ARCHITECTURES, NETWORK_SIZES

        stamp = time.strftime("%Y%m%d-%H%M")
        form = mw.Container(
            widgets=[
                mw.ComboBox(name="architecture", choices=list(ARCHITECTURES), value="cross_modal_vae"),
                mw.ComboBox(name="modality", choices=["ecg", "mri"], value="mri", visible=False),
                mw.ComboBox(name="size", label="network size", choices=list(NETWORK_SIZES), value="small"),
                mw.SpinBox(name="latent_dim", label="latent dimensions", min=2, max=1024, value=64),
                mw.FloatSpinBox(name="beta", label="β (KL weight)", min=0.0, max=10.0, step=0.0001, value=0.001),
                mw.FloatSpinBox(name="contrastive_weight", label="contrastive weight", max=10.0, step=0.05, value=0.1),
                mw.SpinBox(name="epochs", min=1, max=10_000, value=20),
                mw.SpinBox(name="batch_size", label="batch size", min=2, max=4096, value=32),
                mw.FloatSpinBox(name="lr", label="learning rate", min=1e-6, max=1.0, step=0.0001, value=0.002),
                mw.FloatSpinBox(name="val_fraction", label="validation fraction", min=0.05, max=0.5, step=0.05,
                                value=0.2),
                mw.FileEdit(name="out_dir", label="output directory", mode="w",
                            value=Path.home() / "napari-latent" / "models" / f"model-{stamp}"),
            ],
            labels=True,
        )  # fmt: skip
        form.architecture.changed.connect(self._on_architecture)
        form.size.tooltip = "tiny: seconds per epoch on a laptop; full: the paper-scale networks (GPU)"
        form.beta.tooltip = "Weight of the KL term: larger gives a smoother, more regular latent space"
        form.contrastive_weight.tooltip = "Weight of the InfoNCE term that aligns the ECG and MRI latents"
        form.out_dir.tooltip = "A new directory for the checkpoint (a checkpoint there is replaced only after asking)"
        return form

    def _on_architecture(self, name: str) -> None:
        unimodal = name.startswith("unimodal")
        self.form.modality.visible = unimodal
        self.form.contrastive_weight.enabled = not unimodal

    def config(self) -> dict[str, Any]:
        """The form as a ``train`` config: ``{"model": {...}, "train": {...}}``."""
        from ...model import NETWORK_SIZES

        f = self.form
        model = {"architecture": f.architecture.value, "latent_dim": int(f.latent_dim.value),
                 "beta": float(f.beta.value), "contrastive_weight": float(f.contrastive_weight.value),
                 **NETWORK_SIZES[f.size.value]}  # fmt: skip
        if f.architecture.value.startswith("unimodal"):
            model["modality"] = f.modality.value
        n_train = max(1, round(len(self.explorer.cohort) * (1 - f.val_fraction.value)))
        steps = math.ceil(n_train / int(f.batch_size.value))
        train = {"epochs": int(f.epochs.value), "batch_size": int(f.batch_size.value), "lr": float(f.lr.value),
                 "val_fraction": float(f.val_fraction.value), "log_every": max(1, min(10, steps // 4))}  # fmt: skip
        return {"model": model, "train": train}

    @staticmethod
    def _device_name() -> str:
        import torch

        return f"the GPU ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "the CPU"

    # ------------------------------------------------------------------ running
    @property
    def is_running(self) -> bool:
        """Whether training (or the embedding after it) is running."""
        return self._worker is not None

    def start(self, overwrite: bool | None = None) -> bool:
        """Train with the form's options in a worker; returns whether it started.

        An existing checkpoint in the output directory is replaced (once the new model has
        finished) only if ``overwrite`` is True, or None and the user says so in a dialog;
        an existing directory that is not a checkpoint is never touched.
        """
        if self.is_running:
            return False
        out_dir = Path(self.form.out_dir.value).expanduser().absolute()
        if out_dir.exists():
            if not _is_checkpoint(out_dir):
                notify_error(f"{out_dir} exists and is not a checkpoint; choose a new output directory")
                return False
            if overwrite is None:
                answer = QMessageBox.question(
                    self, "Replace checkpoint?", f"{out_dir} already holds a checkpoint.\n\n"
                    "Replace it with the new model once training finishes?",
                )  # fmt: skip
                overwrite = answer == QMessageBox.StandardButton.Yes
            if not overwrite:
                self.status.setText(f"Not started: {out_dir.name} already holds a checkpoint.")
                return False
        try:
            from ...model import resolve_config
            from ...model.run import run_training

            resolve_config(self.config())
        except ValueError as exc:
            notify_error(f"Invalid model options: {exc}")
            return False
        job = partial(run_training, self.explorer.cohort, self.config(), out_dir, replace=bool(overwrite),
                      callback=self._event.emit, should_stop=self._stop.is_set)  # fmt: skip
        self._launch(job, self._on_trained, f"Training {self.form.architecture.value} → {out_dir.name}")
        self.plot.clear("Computing normalisation statistics…")
        return True

    def cancel(self) -> None:
        """Stop at the next step: a cancelled training saves nothing and leaves the Explorer's model as it was."""
        if self.is_running:
            self._stop.set()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _launch(self, func, on_done, label: str) -> None:
        from napari.utils import progress

        self._stop.clear()
        if self._pbar is None:
            self._pbar = progress(total=0, desc=label)
        self._worker = start_worker(func, returned=on_done, errored=self._on_error)
        self.form.enabled = False
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setRange(0, 0)
        self.status.setText(label + "…")

    def _idle(self, status: str) -> None:
        self._worker = None
        self._progress_timer.stop()
        self._progress = None
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self.form.enabled = True
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(int(status not in ("cancelled", "failed")))
        self.progress_bar.setFormat(status.replace("_", " "))
        self.training_finished.emit(status)

    def _on_error(self, exc: BaseException) -> None:
        cancelled, outcome, self._outcome = self._stop.is_set(), self._outcome, None
        if outcome is not None:  # trained and saved: load the new model; only its embedding is missing
            try:
                self.explorer.model = str(outcome.checkpoint)
            except Exception as load_exc:  # noqa: BLE001 (a checkpoint that cannot be read back is reported)
                notify_error(f"Trained, but could not load {outcome.checkpoint}: {load_exc}")
                self._idle("failed")
                return
            if not cancelled:
                notify_error(f"Embedding failed: {type(exc).__name__}: {exc}")
            what = "cancelled" if cancelled else "failed"
            self.status.setText(f"Model saved to {outcome.checkpoint} and loaded; embedding {what}.")
            self._idle(outcome.status)
            return
        if not cancelled:
            notify_error(f"Training failed: {type(exc).__name__}: {exc}")
        self.status.setText("Cancelled: nothing was saved." if cancelled else f"Failed: {exc}")
        self._idle("cancelled" if cancelled else "failed")

    # ------------------------------------------------------------------ trainer events (Qt thread)
    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self._steps_per_epoch = max(1, int(event["steps_per_epoch"]))
            self.plot.clear()
            self.progress_bar.setRange(0, int(event["total_steps"]))
            self.progress_bar.setFormat("step %v of %m")
            if self._pbar is not None:
                self._pbar.total = int(event["total_steps"])
            n_train, n_val = event["n_train"], event["n_val"]
            self.status.setText(f"{n_train:,} training and {n_val:,} validation subjects on {event['device']}")
        elif kind == "step":
            self._on_step(event)
        elif kind == "epoch":
            if "val_loss" in event:
                legend, colour = CURVES["val_loss"]
                self.plot.append(legend, event["epoch"], event["val_loss"], colour=colour, style="line+markers")
            val = f" · validation {event['val_loss']:.4g}" if "val_loss" in event else ""
            self.status.setText(
                f"Epoch {event['epoch']} of {event['epochs']}: train {event.get('train_loss', math.nan):.4g}{val} · "
                f"best {event['best_val_loss']:.4g} (epoch {event['best_epoch']})"
            )
        self.training_event.emit(event)

    def _on_step(self, event: dict[str, Any]) -> None:
        x = event["step"] / self._steps_per_epoch
        for key in ("loss", "ecg_recon", "mri_recon"):
            if key in event:
                legend, colour = CURVES[key]
                self.plot.append(legend, x, event[key], colour=colour, width=2 if key == "loss" else 1)
        step = int(event["step"])
        self._show_progress(None, step, f"step %v of %m · {event['eta_s'] / 60:.1f} min left", step)

    def _show_progress(self, maximum: int | None, value: int, fmt: str, pbar_n: int | None = None) -> None:
        """Show progress now, or (when the last update was less than PROGRESS_INTERVAL_S ago)
        only the newest progress a little later."""
        self._progress = (maximum, value, fmt, pbar_n)
        wait = self._progress_at + PROGRESS_INTERVAL_S - time.perf_counter()
        if wait <= 0:
            self._apply_progress()
        elif not self._progress_timer.isActive():
            self._progress_timer.start(max(1, math.ceil(wait * 1000)))

    def _apply_progress(self) -> None:
        progress, self._progress = self._progress, None
        if progress is None or self._worker is None:
            return
        maximum, value, fmt, pbar_n = progress
        self.progress_bar.setFormat(fmt)
        set_progress(self.progress_bar, value, maximum if maximum is not None else self.progress_bar.maximum())
        if pbar_n is not None and self._pbar is not None:
            self._pbar.n = pbar_n
            self._pbar.refresh()
        self._progress_at = time.perf_counter()

    # ------------------------------------------------------------------ after training
    def _on_trained(self, outcome: TrainOutcome) -> None:
        if outcome.checkpoint is None:
            self.status.setText("Cancelled: nothing was saved; the Explorer keeps its model.")
            self._idle("cancelled")
            return
        from ...analysis.embedding import load_and_embed

        self._outcome = outcome
        job = partial(load_and_embed, self.explorer.cohort, outcome.checkpoint,
                      progress=self._embed_progress.emit, should_stop=self._stop.is_set)  # fmt: skip
        self._launch(job, self._on_embedded, "Embedding the cohort with the new model")

    def _on_embed_progress(self, done: int, total: int) -> None:
        self._show_progress(total, done, "embedding %v of %m")

    def _on_embedded(self, loaded: tuple[Any, dict]) -> None:
        outcome, self._outcome = self._outcome, None
        model, embeddings = loaded
        self.explorer.set_model(model, embeddings)  # one event: the views redraw once
        self.status.setText(
            f"{outcome.status.replace('_', ' ').capitalize()} after {outcome.epochs} epochs (best validation loss "
            f"{outcome.best_val_loss:.4g}); saved to {outcome.checkpoint.name} and loaded into the explorer."
        )
        self.status.setToolTip(str(outcome.checkpoint))
        self._idle(outcome.status)
