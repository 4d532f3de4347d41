"""Start the demo in a window that is already on screen.

The demo cohort is generated on the first run (about 50 ms a subject per core) and opened
from the cache afterwards. :func:`start_demo` does that in a worker while the napari window
shows what is happening: a line of text on the canvas and napari's progress bar. Closing the
window stops the generation; what was written is kept and the next start resumes it. Once the
cohort is in, the Explorer's views are docked and the model loads, as from the launcher.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QEvent, QObject, Signal

from .._qt.canvas_text import canvas_text
from .._qt.notify import notify_error
from .._qt.worker import start_worker
from .explorer_launcher import DEMO, open_store_in_viewer

if TYPE_CHECKING:
    import napari

__all__ = ["DemoStart", "start_demo"]

PREPARING = "Preparing the demo cohort…\n(generated on the first run only, then opened from the cache)"
LOADING = "Loading the demo model and embedding the cohort…"


def start_demo(
    viewer: napari.viewer.Viewer,
    subjects: int | None = None,
    model: Any = DEMO,
    *,
    progress: Callable[[int, int], Any] | None = None,
) -> DemoStart:
    """Generate (or open) the demo cohort of ``subjects`` off the Qt thread with its progress in
    ``viewer``, then open it in the Explorer with ``model``.

    ``progress(done, total)`` is also called on the Qt thread as subjects are written (a terminal
    bar, say). Returns the :class:`DemoStart`, whose ``ready`` signal carries the Explorer.
    """
    if subjects is None:
        from ...cohort.synthetic.generate import DEMO_SIZE  # the module's value, read now

        subjects = DEMO_SIZE
    return DemoStart(viewer, subjects, model, progress=progress)


class DemoStart(QObject):
    """One demo start in ``viewer``: generating the cohort, then opening the Explorer.

    ``generated(cohort)`` fires once the cohort is in; ``ready(explorer)`` once the views are
    docked and the model is in (or failed to load); ``stopped(exc)`` when the generation was
    cancelled (an ``InterruptedError``) or failed.
    """

    generated = Signal(object)
    ready = Signal(object)
    stopped = Signal(object)

    def __init__(
        self,
        viewer: napari.viewer.Viewer,
        subjects: int,
        model: Any = DEMO,
        *,
        progress: Callable[[int, int], Any] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.subjects = int(subjects)
        self.model = model
        self.cohort: Any = None
        self.explorer: Any = None
        self.error: BaseException | None = None
        self._progress = progress
        self._stop = threading.Event()
        self.overlay = canvas_text(viewer)
        self.overlay.visible, self.overlay.position, self.overlay.font_size = True, "middle_center", 16
        self.overlay.text = PREPARING
        qt_window = _qt_window(viewer)
        self._close_watch = None if qt_window is None else _CloseWatch(qt_window, self.cancel)
        self.worker = start_worker(
            _generate_demo,
            self.subjects,
            stop=self._stop,
            progress_kw="progress",
            progressed=self._progressed,
            desc="Demo cohort",
            total=self.subjects,
            returned=self._generated,
            errored=self._failed,
        )

    # ------------------------------------------------------------------ public API
    @property
    def progress_bar(self) -> Any:
        """napari's progress bar of the generation (``n`` of ``total`` subjects); closed once it ends."""
        return self.worker.pbar

    @property
    def generating(self) -> bool:
        """True while the cohort is being generated or opened."""
        return self.cohort is None and self.error is None

    def cancel(self) -> None:
        """Stop the generation at the next finished block of subjects (they are kept for the next start)."""
        self._stop.set()

    # ------------------------------------------------------------------ internals
    def _progressed(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(done, total)
        if not self._stop.is_set():
            self.overlay.text = generating_text(done, total)

    def _generated(self, cohort: Any) -> None:
        self.cohort = cohort
        self.generated.emit(cohort)
        if self._stop.is_set():  # the window is closing
            return
        self.overlay.text = LOADING
        self.explorer = open_store_in_viewer(cohort, self.viewer, self.model, on_ready=self._ready)

    def _ready(self, explorer: Any) -> None:
        self.overlay.visible = False
        self.ready.emit(explorer)

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        if isinstance(exc, InterruptedError):
            self.overlay.text = "Stopped: the subjects generated so far are kept; the next start resumes."
        else:
            self.overlay.text = f"Could not prepare the demo cohort:\n{type(exc).__name__}: {exc}"
            notify_error(exc, "Could not prepare the demo cohort")
        self.stopped.emit(exc)


def generating_text(done: int, total: int, width: int = 24) -> str:
    """The canvas text while the cohort is generated: a text progress bar and the counts."""
    filled = round(width * done / total) if total > 0 else 0
    return (
        "Generating the demo cohort (first run only)\n"
        f"{'█' * filled}{'░' * (width - filled)}  {done:,} of {total:,} subjects\n"
        "Close the window to stop: the next start resumes."
    )


def _generate_demo(
    subjects: int, *, progress: Callable[[int, int], Any], should_stop: Callable[[], bool]
) -> Any:
    """The demo cohort (cached, or generated resumably), stopping after the block in hand once asked."""
    from ...cohort.synthetic.generate import demo_cohort

    if should_stop():
        raise InterruptedError("demo cohort generation stopped before it began")
    return demo_cohort(subjects, progress=progress, should_stop=should_stop)


class _CloseWatch(QObject):
    """Calls ``on_close`` when the watched window gets a close event."""

    def __init__(self, window: QObject, on_close: Callable[[], Any]) -> None:
        super().__init__(window)
        self._on_close = on_close
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Close:
            self._on_close()
        return False


def _qt_window(viewer: Any) -> QObject | None:
    """napari's main window of ``viewer`` (unwrapping the proxy napari hands to plugins), if it has one."""
    window = getattr(viewer.window, "__wrapped__", viewer.window)
    return window.__dict__.get("_qt_window")
