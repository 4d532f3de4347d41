"""npe2 widget factories (napari injects the viewer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import napari


def explorer_launcher(napari_viewer: napari.viewer.Viewer):
    """Choose a cohort and a model, then dock every Explorer view in ``napari_viewer``."""
    from ..widgets.explorer_launcher import ExplorerLauncher

    return ExplorerLauncher(napari_viewer)


def subject_browser(napari_viewer: napari.viewer.Viewer):
    """The cohort subject browser docked in ``napari_viewer``."""
    from ..widgets.subject_browser import SubjectBrowser

    return SubjectBrowser(napari_viewer)


def import_cohort(napari_viewer: napari.viewer.Viewer):
    """The cohort import dialog; "Open in Explorer" docks the new store in ``napari_viewer``."""
    from ..widgets.import_dialog import ImportCohortWidget

    return ImportCohortWidget(napari_viewer)
