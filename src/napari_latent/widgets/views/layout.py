"""Dock every view of an Explorer session into a napari viewer in one sensible layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import napari

    from ...explorer import Explorer

__all__ = ["dock_explorer", "show_explorer", "ExplorerDocks"]


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


def show_explorer(explorer: Explorer, viewer: napari.viewer.Viewer | None = None) -> napari.viewer.Viewer:
    """Dock ``explorer``'s views in ``viewer`` (a new viewer by default) and return the viewer."""
    import napari

    viewer = viewer or napari.Viewer(title="napari-latent")
    dock_explorer(explorer, viewer)
    return viewer


def dock_explorer(explorer: Explorer, viewer: napari.viewer.Viewer, *, spaces=("fused", "mri", "ecg")) -> ExplorerDocks:
    """Dock scatters (one per latent space), charts, sliders, decoded views and panels.

    Left: the embedding scatters, tabbed. Right: distributions and latent sliders.
    Bottom: the 12-lead ECG of the decoded views. Tabbed with the charts: groups, probes,
    training. The canvas shows the original, reconstructed, translated and edited cines.
    """
    from .._qt.scroll import scroll_contents
    from .decoded_views import DecodedViews
    from .distributions import DistributionView
    from .groups_panel import GroupsPanel
    from .latent_sliders import LatentSliders
    from .probe_panel import ProbePanel
    from .scatter import EmbeddingScatter
    from .training_panel import TrainingPanel

    docks = ExplorerDocks()
    window = viewer.window
    first = None
    for space in spaces:
        if explorer.embeddings and space not in explorer.embeddings:
            continue
        docks.scatters[space] = EmbeddingScatter(explorer, space)
        scroll_contents(docks.scatters[space], min_height=220, min_width=420)  # fits 1366 × 768 too
        title = "Fused latent space" if space == "fused" else f"{space.upper()} latent space"
        dock = window.add_dock_widget(docks.scatters[space], name=title, area="left", tabify=first is not None)
        first = first or dock

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
    _share_height(window, charts, sliders)
    docks.decoded = DecodedViews(explorer, viewer)
    window.add_dock_widget(docks.decoded.widget, name="Decoded views and 12-lead ECG", area="bottom")
    return docks


def _share_height(window: Any, charts: Any, sliders: Any) -> None:
    """Start the charts and the sliders with a fair share of the right column each (both
    scroll below it, so the window still fits small screens)."""
    from qtpy.QtCore import Qt

    def unwrap(obj: Any) -> Any:  # a viewer handed out as napari's PublicOnlyProxy wraps what it returns
        return getattr(obj, "__wrapped__", obj)

    qt_window = unwrap(window).__dict__.get("_qt_window")  # napari's QMainWindow
    if qt_window is None or charts is None or sliders is None:
        return
    try:
        qt_window.resizeDocks([unwrap(charts), unwrap(sliders)], [560, 380], Qt.Orientation.Vertical)
    except TypeError:  # not Qt dock widgets: leave Qt's own split
        pass


def _raise_later(*docks) -> None:
    """Show these tabs once Qt has laid out the tabified docks (raising earlier is undone)."""
    from qtpy.QtCore import QTimer

    for dock in docks:
        if dock is not None:
            QTimer.singleShot(0, dock.raise_)
