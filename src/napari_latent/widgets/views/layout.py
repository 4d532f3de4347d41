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
        title = "Fused latent space" if space == "fused" else f"{space.upper()} latent space"
        dock = window.add_dock_widget(docks.scatters[space], name=title, area="left", tabify=first is not None)
        first = first or dock

    docks.distributions = DistributionView(explorer)
    charts = window.add_dock_widget(docks.distributions, name="Distributions", area="right")
    docks.groups = GroupsPanel(explorer, viewer)
    docks.probes = ProbePanel(explorer)
    docks.training = TrainingPanel(explorer)
    for name, widget in (("Groups", docks.groups), ("Probes", docks.probes), ("Training", docks.training)):
        window.add_dock_widget(widget, name=name, area="right", tabify=True)
    _raise_later(first, charts)

    docks.sliders = LatentSliders(explorer)
    window.add_dock_widget(docks.sliders, name="Latent sliders", area="right")
    docks.decoded = DecodedViews(explorer, viewer)
    window.add_dock_widget(docks.decoded.widget, name="Decoded views and 12-lead ECG", area="bottom")
    return docks


def _raise_later(*docks) -> None:
    """Show these tabs once Qt has laid out the tabified docks (raising earlier is undone)."""
    from qtpy.QtCore import QTimer

    for dock in docks:
        if dock is not None:
            QTimer.singleShot(0, dock.raise_)
