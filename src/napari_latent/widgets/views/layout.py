"""Dock every view of an Explorer session into a napari viewer in one sensible layout.

Two arrangements: the regular one for screens with 900 pixels or more of available height,
and a compact one for shorter screens (1440 × 900, 1366 × 768), where napari's layer list and layer
controls become two more tabs beside the scatters, so the main window's minimum height fits
the screen and every dock scrolls instead of being clipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QDockWidget, QMainWindow

if TYPE_CHECKING:
    import napari

    from ...explorer import Explorer

__all__ = [
    "dock_explorer", "show_explorer", "compact_for", "available_height", "ExplorerDocks", "COMPACT_BELOW",
    "DOCK_TITLES", "SCATTER_TITLES",
]  # fmt: skip

#: The title of each latent space's scatter dock (``viewer.window.dock_widgets[title]``).
SCATTER_TITLES = {"fused": "Fused latent space", "mri": "MRI latent space", "ecg": "ECG latent space"}
#: Every dock an Explorer session adds when all three latent spaces are embedded.
DOCK_TITLES = (
    *SCATTER_TITLES.values(), "Distributions", "Groups", "Probes", "Training", "Latent sliders",
    "Decoded views and 12-lead ECG",
)  # fmt: skip

#: Screens whose available height (less task bars) is below this many pixels get the compact
#: layout. The regular layout's minimum height is about 865 pixels once the cines are shown
#: (napari's layer controls for an image alone ask for 354, and share their place with the
#: layer list), plus about 30 for the window's title bar: a 1920 × 1080 desktop with a task
#: bar keeps it; 1440 × 900 and 1366 × 768 get the compact one rather than a window taller
#: than the screen.
COMPACT_BELOW = 900


@dataclass
class ExplorerDocks:
    """The views docked for one session (so scripts and tests can reach them)."""

    scatters: dict[str, Any] = field(default_factory=dict)
    distributions: Any = None
    sliders: Any = None
    decoded: Any = None
    groups: Any = None
    probes: Any = None
    training: Any = None
    compact: bool = False


def compact_for(height: int | None) -> bool:
    """Whether a screen whose available height is ``height`` pixels needs the compact layout
    (None, no screen known: the regular layout)."""
    return height is not None and height < COMPACT_BELOW


def available_height(viewer: napari.viewer.Viewer) -> int | None:
    """The available height, in pixels, of the screen ``viewer``'s window is on (the primary
    screen before the window is shown); None without a screen."""
    from qtpy.QtGui import QGuiApplication

    qt_window = _qt_window(viewer.window)
    screen = qt_window.screen() if qt_window is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return None if screen is None else screen.availableGeometry().height()


def show_explorer(
    explorer: Explorer, viewer: napari.viewer.Viewer | None = None, *, compact: bool | None = None
) -> napari.viewer.Viewer:
    """Dock ``explorer``'s views in ``viewer`` (a new viewer by default) and return the viewer.

    ``compact``: True or False forces the small-screen or the regular layout; None (default)
    picks from the screen's available height (:func:`compact_for`).
    """
    import napari

    viewer = viewer or napari.Viewer(title="napari-latent")
    dock_explorer(explorer, viewer, compact=compact)
    return viewer


def dock_explorer(
    explorer: Explorer, viewer: napari.viewer.Viewer, *, spaces=("fused", "mri", "ecg"), compact: bool | None = None
) -> ExplorerDocks:
    """Dock scatters (one per latent space), charts, sliders, decoded views and panels.

    Left: the embedding scatters, tabbed. Right: distributions and latent sliders.
    Bottom: the 12-lead ECG of the decoded views. Tabbed with the charts: groups, probes,
    training. The canvas shows the original, reconstructed, translated and edited cines.

    ``compact``: True arranges for a short screen (napari's layer list and layer controls
    become tabs beside the scatters); False keeps the regular layout; None (default) picks
    from the available height of the window's screen (:func:`compact_for`).
    """
    from .._qt.scroll import scroll_contents
    from .decoded_views import DecodedViews
    from .distributions import DistributionView
    from .groups_panel import GroupsPanel
    from .latent_sliders import LatentSliders
    from .probe_panel import ProbePanel
    from .training_panel import TrainingPanel

    compact = compact_for(available_height(viewer)) if compact is None else bool(compact)
    docks = ExplorerDocks(compact=compact)
    window = viewer.window
    first = _dock_scatters(explorer, window, docks, spaces)

    docks.distributions = DistributionView(explorer)
    scroll_contents(docks.distributions)
    charts = window.add_dock_widget(docks.distributions, name="Distributions", area="right")
    docks.groups = GroupsPanel(explorer, viewer)
    docks.probes = ProbePanel(explorer)
    docks.training = TrainingPanel(explorer)
    for name, widget in (("Groups", docks.groups), ("Probes", docks.probes), ("Training", docks.training)):
        scroll_contents(widget)  # tall forms scroll in their dock; the window fits the screen
        window.add_dock_widget(widget, name=name, area="right", tabify=True)
    _raise_later(first, charts)

    docks.sliders = LatentSliders(explorer)
    scroll_contents(docks.sliders)
    sliders = window.add_dock_widget(docks.sliders, name="Latent sliders", area="right")
    docks.decoded = DecodedViews(explorer, viewer)
    bottom = window.add_dock_widget(docks.decoded.widget, name="Decoded views and 12-lead ECG", area="bottom")
    _arrange(window, first, charts, sliders, bottom, compact)
    return docks


def _dock_scatters(explorer: Explorer, window: Any, docks: ExplorerDocks, spaces) -> Any:
    """Dock one scatter per latent space at the left, tabbed; return the first dock."""
    from .._qt.scroll import scroll_contents
    from .scatter import EmbeddingScatter

    first = None
    for space in spaces:
        if explorer.embeddings and space not in explorer.embeddings:
            continue
        docks.scatters[space] = EmbeddingScatter(explorer, space)
        scroll_contents(docks.scatters[space], min_height=220, min_width=420)  # fits 1366 × 768 too
        title = SCATTER_TITLES.get(space, f"{space.upper()} latent space")
        dock = window.add_dock_widget(docks.scatters[space], name=title, area="left", tabify=first is not None)
        first = first or dock
    return first


def _unwrap(obj: Any) -> Any:
    """The object itself: a viewer handed out as napari's PublicOnlyProxy wraps what it returns."""
    return getattr(obj, "__wrapped__", obj)


def _qt_window(window: Any) -> Any:
    """napari's QMainWindow behind a viewer's window (None for anything else)."""
    return _unwrap(window).__dict__.get("_qt_window")


def _napari_docks(qt_window: Any) -> tuple[Any, Any]:
    """napari's own layer controls and layer list docks (None where this napari lacks them)."""
    qt_viewer = getattr(qt_window, "_qt_viewer", None)
    return getattr(qt_viewer, "dockLayerControls", None), getattr(qt_viewer, "dockLayerList", None)


#: The ECG row's starting share of the window's height (the 12 beats stay readable).
ECG_SHARE = 0.25


def _arrange(window: Any, scatter: Any, charts: Any, sliders: Any, bottom: Any, compact: bool) -> None:
    """Tab napari's layer docks so that the scatters get room; start every column with a fair
    share of its height.

    Regular: napari's layer list and layer controls share one place as two tabs (the list in
    front) at their minimum height above the scatters, which get the rest of the left column.
    Compact: the two become more tabs beside the scatters (the scatters in front), so the
    column is one dock tall. Right: the charts and the sliders, half each. Bottom: the ECG row
    starts at :data:`ECG_SHARE` of the window's height; the canvas takes the rest.
    """
    qt_window = _qt_window(window)
    if not isinstance(qt_window, QMainWindow):
        return
    controls, layers = _napari_docks(qt_window)
    scatter = _unwrap(scatter)
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    napari_docks = [d for d in (layers, controls) if isinstance(d, QDockWidget) and qt_window.dockWidgetArea(d) == left]
    shares = [([_unwrap(charts), _unwrap(sliders)], [1, 1])]
    if isinstance(scatter, QDockWidget) and napari_docks:
        if compact:
            for dock in napari_docks:
                qt_window.tabifyDockWidget(scatter, dock)
            _raise_later(scatter)
        else:
            for dock in napari_docks[1:]:
                qt_window.tabifyDockWidget(napari_docks[0], dock)
            _raise_later(napari_docks[0])
            shares.append(([napari_docks[0], scatter], [0, 1]))
    _StartSizes(qt_window, shares, bottom=(_unwrap(bottom), ECG_SHARE))


class _StartSizes(QObject):
    """Share each column's height between its docks now and again each time the main window
    is resized (Qt would otherwise grow every dock of a column in proportion to its minimum
    height), until the user arranges the docks: presses on the main window itself (a
    separator between docks) or moves one of these docks.

    ``shares``: (docks of one column, their weights); weight 0 keeps a dock at its minimum
    height, the others share the rest in proportion to their weights. ``bottom``: (the bottom
    dock, its share of the window's height), never below its minimum.
    """

    def __init__(
        self, qt_window: QMainWindow, shares: list[tuple[list, list[int]]], bottom: tuple[Any, float] | None = None
    ) -> None:
        super().__init__(qt_window)  # lives and dies with the window
        self.window = qt_window
        self.shares = [(docks, weights) for docks, weights in shares if all(isinstance(d, QDockWidget) for d in docks)]
        self.bottom = bottom if bottom is not None and isinstance(bottom[0], QDockWidget) else None
        qt_window.installEventFilter(self)
        self.apply()
        QTimer.singleShot(0, self.apply)  # again once Qt has placed the new docks
        for dock in [d for docks, _ in self.shares for d in docks] + ([self.bottom[0]] if self.bottom else []):
            dock.dockLocationChanged.connect(self.stop)
            dock.topLevelChanged.connect(self.stop)

    def stop(self, *_) -> None:
        """Leave the docks where the user puts them."""
        self.shares, self.bottom = [], None
        self.window.removeEventFilter(self)

    def apply(self) -> None:
        for docks, weights in self.shares:
            kept = [(d, w) for d, w in zip(docks, weights, strict=True) if _docked(d)]
            if not kept:
                continue
            fixed = {d: d.minimumSizeHint().height() for d, w in kept if w == 0}
            rest = sum(d.height() for d, _ in kept) - sum(fixed.values())
            total = sum(w for _, w in kept) or 1
            heights = [fixed[d] if w == 0 else max(round(rest * w / total), 1) for d, w in kept]
            self.window.resizeDocks([d for d, _ in kept], heights, Qt.Orientation.Vertical)
        if self.bottom is not None and _docked(self.bottom[0]):
            dock, share = self.bottom
            height = max(dock.minimumSizeHint().height(), round(share * self.window.height()))
            self.window.resizeDocks([dock], [height], Qt.Orientation.Vertical)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.window and event.type() == QEvent.Type.MouseButtonPress:
            self.stop()
        elif obj is self.window and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.apply)  # once Qt has laid out the new size
        return False


def _docked(dock: Any) -> bool:
    """Whether ``dock`` is a dock widget shown in its main window (not closed, not floating)."""
    try:
        return isinstance(dock, QDockWidget) and not dock.isFloating() and not dock.isHidden()
    except RuntimeError:  # deleted by Qt
        return False


def _raise_later(*docks) -> None:
    """Show these tabs once Qt has laid out the tabified docks (raising earlier is undone)."""
    for dock in docks:
        if dock is not None:
            QTimer.singleShot(0, dock.raise_)
