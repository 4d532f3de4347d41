"""Run a projection off the Qt thread, stream t-SNE layouts back, cancel on request.

The worker calls :func:`napari_latent.analysis.project` on latents read on the Qt thread;
the finished :class:`ProjectionResult` is handed back on the Qt thread, where the widget
installs it with ``Explorer.set_projection`` (so every Explorer event fires on the Qt
thread). Intermediate layouts are "latest wins": the worker stores the newest one and
pokes the Qt thread; a poke that finds nothing new does nothing. Layouts reach the view at
most every ``STREAM_INTERVAL_S`` (a later one waits on a timer): on a small cohort openTSNE
reports hundreds of layouts a second, and redrawing each (the progress bar repaints
synchronously) would keep the Qt thread busy without pause.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
from qtpy.QtCore import QObject, QTimer, Signal

__all__ = ["METHOD_LABELS", "ProjectionRunner", "available_methods"]

METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE", "pacmap": "PaCMAP", "umap": "UMAP"}
_TSNE_DEFAULT_ITERS = (250, 500)  # openTSNE's early-exaggeration and main iterations
_MODULES = {"tsne": "openTSNE", "pacmap": "pacmap", "umap": "umap"}
#: Least time from the end of one streamed-layout redraw to the next one.
STREAM_INTERVAL_S = 0.1


def available_methods() -> list[str]:
    """Projection methods whose package is importable (PCA always)."""
    from importlib.util import find_spec

    return ["pca"] + [m for m, module in _MODULES.items() if find_spec(module) is not None]


class ProjectionRunner(QObject):
    """One projection at a time in a napari worker, with progress and cancel.

    Signals (all delivered on the Qt thread): ``started(method)``,
    ``streamed(iteration, coords)`` (newest intermediate layout), ``progressed(done, total)``,
    ``finished(result)``, ``cancelled()``, ``failed(message)``.
    """

    started = Signal(str)
    streamed = Signal(int, object)
    progressed = Signal(int, int)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    _poke = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: tuple[int, np.ndarray] | None = None
        self._stop = threading.Event()
        self._worker = None
        self._pbar = None
        self._total = 0
        self._delivered_at = -math.inf
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._deliver)
        self._poke.connect(self._deliver)

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def total(self) -> int:
        """Iterations of the running projection (0 when it does not report any)."""
        return self._total

    @property
    def worker(self):
        """The napari worker of the projection in progress, or None."""
        return self._worker

    def start(self, latents: np.ndarray, method: str, label: str = "", **params: Any):
        """Project ``latents`` with ``method`` in a worker; returns the worker."""
        from napari.utils import progress

        from ..._qt.worker import start_worker
        from ....analysis.projection import project

        self.cancel()
        self._stop = stop = threading.Event()
        self._total = _total_iterations(method, params)
        self._pbar = pbar = progress(total=self._total, desc=f"{METHOD_LABELS.get(method, method)} {label}".strip())

        def store(iteration: int, coords: np.ndarray) -> None:
            if not stop.is_set():
                self._store(iteration, coords)

        def run():
            callback = store if method == "tsne" else None
            return project(latents, method, callback=callback, should_stop=stop.is_set, **params)

        worker = None
        worker = start_worker(
            run,
            returned=lambda result: self._returned(worker, result),
            errored=lambda exc: self._errored(worker, exc),
            finished=lambda: self._finish(worker, pbar),
        )
        self._worker = worker
        self.started.emit(method)
        return worker

    def cancel(self) -> None:
        """Ask the running projection to stop; ``cancelled`` follows when it has."""
        if self._worker is not None:
            self._stop.set()

    # ------------------------------------------------------------------ worker side
    def _store(self, iteration: int, coords: np.ndarray) -> None:
        """Called on the worker thread: keep only the newest layout, poke the Qt thread."""
        with self._lock:
            self._latest = (iteration, coords)
        self._poke.emit()

    # ------------------------------------------------------------------ Qt side
    def _deliver(self) -> None:
        wait = self._delivered_at + STREAM_INTERVAL_S - time.perf_counter()
        if wait > 0:  # too soon after the last one: deliver the newest layout later
            if not self._later.isActive():
                self._later.start(max(1, math.ceil(wait * 1000)))
            return
        with self._lock:
            latest, self._latest = self._latest, None
        if latest is None or self._worker is None or self._stop.is_set():
            return
        iteration, coords = latest
        if self._pbar is not None:
            self._pbar.n = min(iteration, self._total)
            self._pbar.refresh()
        self.streamed.emit(iteration, coords)  # first: the progress bar repaints (and so draws it) at once
        self.progressed.emit(iteration, self._total)
        self._delivered_at = time.perf_counter()

    def _returned(self, worker, result) -> None:
        if worker is not self._worker:
            return  # superseded by a newer run
        self.progressed.emit(self._total, self._total)
        self.finished.emit(result)

    def _errored(self, worker, exc: BaseException) -> None:
        from ....analysis.projection import Cancelled

        if worker is not self._worker:
            return
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
            return
        from ..._qt.notify import notify_error

        message = notify_error(f"Projection failed: {type(exc).__name__}: {exc}")
        self.failed.emit(message)

    def _finish(self, worker, pbar) -> None:
        pbar.close()
        if self._worker is worker:
            self._worker, self._pbar = None, None
            with self._lock:
                self._latest = None


def _total_iterations(method: str, params: dict[str, Any]) -> int:
    if method != "tsne":
        return 0
    early, main = _TSNE_DEFAULT_ITERS
    return int(params.get("early_exaggeration_iter", early)) + int(params.get("n_iter", main))
