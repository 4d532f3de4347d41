"""Open the Explorer from napari's menus: pick a cohort (the demo or a store) and a model, dock every view.

The cohort's table opens on the Qt thread (small; a bad store fails at once, as a
notification); generating the demo cohort, loading the model and embedding the cohort run
in workers with napari progress bars, and the first subject is focused once they are in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from superqt import QElidingLabel

from .._qt.notify import notify_error
from .._qt.scroll import scroll_contents
from .._qt.worker import start_worker

if TYPE_CHECKING:
    import napari

    from ...explorer import Explorer

__all__ = ["ExplorerLauncher", "open_store_in_viewer"]

DEMO = "demo"


def open_store_in_viewer(
    cohort: str | os.PathLike | Any, viewer: napari.viewer.Viewer, model: Any = DEMO, *, on_ready: Any = None
) -> Explorer:
    """Open ``cohort`` (a store path or an open :class:`Cohort`), dock the Explorer's views at once,
    then load the model and embed in a worker.

    ``model`` is a checkpoint path, ``"demo"`` (used only when its input schema fits the store)
    or None. The embedding is cached in the store after the first time. ``on_ready(explorer)``
    is called on the Qt thread once the model and embeddings are in (or failed).
    """
    from ...cohort import Cohort, open_cohort
    from ...explorer import Explorer
    from ..views.layout import dock_explorer

    cohort = cohort if isinstance(cohort, Cohort) else open_cohort(cohort)
    explorer = Explorer(cohort)
    dock_explorer(explorer, viewer)
    _load_model_in_worker(explorer, model, on_ready)
    return explorer


def _load_model_in_worker(explorer: Explorer, model: Any, on_ready: Any = None) -> None:
    from napari.utils.notifications import show_info

    def ready() -> None:
        if len(explorer.cohort):
            explorer.focus(0)
        if on_ready is not None:
            on_ready(explorer)

    if model is None:
        ready()
        return
    def job():
        from ...analysis.embedding import load_and_embed
        from ...model.checkpoint import SchemaMismatchError

        try:
            return load_and_embed(explorer.cohort, model)
        except SchemaMismatchError as exc:  # the demo model is optional; a chosen checkpoint is not
            if model != DEMO:
                raise
            return None, str(exc)

    def done(result) -> None:
        resolved, embeddings = result
        if resolved is None:
            show_info(f"Opened without a model: the demo model does not fit this store ({embeddings}).")
        else:
            explorer.set_model(resolved, embeddings)
        ready()

    def failed(exc: BaseException) -> None:
        notify_error(f"{explorer.cohort.path}: could not load the model: {type(exc).__name__}: {exc}")
        ready()

    start_worker(job, returned=done, errored=failed, desc="Embedding the cohort")


class ExplorerLauncher(QWidget):
    """Choose a cohort (the demo cohort or a store folder) and a model, then *Open*.

    ``opened(explorer)`` fires once the views are docked and the model and embeddings are in.
    :meth:`open` does the same from code.
    """

    opened = Signal(object)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from magicgui.widgets import FileEdit

        from ...cohort.synthetic.generate import DEMO_SIZE

        self.viewer = napari_viewer
        self.explorer: Explorer | None = None
        self._busy = False
        self._model: Any = None
        self.cohort_box = QComboBox()
        self.cohort_box.addItem(f"Demo cohort ({DEMO_SIZE:,} synthetic subjects)", DEMO)
        self.cohort_box.addItem("Cohort store (folder)…", "store")
        self.cohort_box.setToolTip("the demo cohort is generated once and cached; a store is a NAME.zarr folder")
        self.store_edit = FileEdit(mode="d", label="store")
        self.store_edit.native.setToolTip("a cohort store made by 'napari-latent import' or 'generate'")
        self.model_box = QComboBox()
        self.model_box.addItem("Shipped demo model", DEMO)
        self.model_box.addItem("Checkpoint (folder)…", "checkpoint")
        self.model_box.addItem("None (train one in the Training panel)", None)
        self.model_edit = FileEdit(mode="d", label="checkpoint")
        self.model_edit.native.setToolTip("a folder with weights.safetensors + config.json")
        self.open_button = QPushButton("Open in the Explorer")
        self.open_button.clicked.connect(self._clicked)
        self.status = QElidingLabel("")
        form = QFormLayout()
        form.addRow("cohort", self.cohort_box)
        form.addRow("", self.store_edit.native)
        form.addRow("model", self.model_box)
        form.addRow("", self.model_edit.native)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Latent Space Explorer</b>"))
        layout.addLayout(form)
        layout.addWidget(self.open_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.cohort_box.currentIndexChanged.connect(self._update_fields)
        self.model_box.currentIndexChanged.connect(self._update_fields)
        self._update_fields()
        scroll_contents(self)  # a short dock scrolls instead of making the window taller

    # ------------------------------------------------------------------ public API
    def open(self, cohort: str | os.PathLike | None = DEMO, model: str | os.PathLike | None = DEMO) -> None:
        """Open ``cohort`` ("demo" or a store path) with ``model`` ("demo", a checkpoint path or None)."""
        if self._busy:
            return
        self._set_busy(True)
        if cohort == DEMO:
            self._generate_demo(model)
        else:
            self._open(cohort, model)

    # ------------------------------------------------------------------ internals
    def _update_fields(self) -> None:
        self.store_edit.native.setVisible(self.cohort_box.currentData() == "store")
        self.model_edit.native.setVisible(self.model_box.currentData() == "checkpoint")

    def _clicked(self) -> None:
        cohort = self.cohort_box.currentData()
        model = self.model_box.currentData()
        if cohort == "store":
            cohort = _chosen(self.store_edit.value)
            if cohort is None:
                return self._fail("choose a cohort store folder first")
        if model == "checkpoint":
            model = _chosen(self.model_edit.value)
            if model is None:
                return self._fail("choose a checkpoint folder first")
        self.open(cohort, model)
        return None

    def _generate_demo(self, model: Any) -> None:
        from ...cohort.synthetic.generate import DEMO_SIZE, demo_cohort  # the module's value, read now

        self._model = model
        self.status.setText("Preparing the demo cohort (generated once, then cached)…")
        # progress travels through the worker's own relay, so a launcher closed while the
        # cohort is generated is never signalled from the worker thread
        start_worker(demo_cohort, DEMO_SIZE, progress_kw="progress", desc="Demo cohort", total=DEMO_SIZE,
                     returned=self._demo_ready, errored=self._demo_failed)  # fmt: skip

    def _demo_ready(self, cohort: Any) -> None:
        self._open(cohort, self._model)

    def _demo_failed(self, exc: BaseException) -> None:
        self._fail(f"could not prepare the demo cohort: {exc}")

    def _open(self, cohort: Any, model: Any) -> None:
        self.status.setText("Opening…")
        try:
            self.explorer = open_store_in_viewer(cohort, self.viewer, model, on_ready=self._ready)
        except (OSError, ValueError) as exc:  # CohortError and SchemaMismatchError are ValueErrors
            self._fail(str(exc))

    def _ready(self, explorer: Explorer) -> None:
        self._set_busy(False)
        n = len(explorer.cohort)
        model = "no model" if explorer.model is None else "model loaded"
        self.status.setText(f"Opened {n:,} subjects ({model}).")
        self.opened.emit(explorer)

    def _fail(self, message: str) -> None:
        self._set_busy(False)
        self.status.setText(message)
        notify_error(message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.open_button.setEnabled(not busy)


def _chosen(value: Any) -> Path | None:
    """A path the user picked in a FileEdit; None when the field is empty."""
    text = str(value or "").strip()
    return Path(text) if text and text != "." else None
