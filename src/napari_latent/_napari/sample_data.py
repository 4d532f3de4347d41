"""npe2 sample data: one demo subject, or the 1,000-subject demo cohort in the Explorer."""

from __future__ import annotations

from ..widgets.plots.layer_data import LayerData, subject_layers


def demo_subject() -> list[LayerData]:
    """Cine and labels of demo subject 0, generated on the spot (about 50 ms)."""
    from ..cohort.synthetic import generate_cohort

    cohort = generate_cohort(1)
    return subject_layers(cohort.subject(0))


#: Name prefix of the layers shown while the demo cohort is prepared; removed once the Explorer is in.
PREVIEW_PREFIX = "preview · "


def demo_cohort() -> list[LayerData]:
    """The 1,000-subject demo cohort with the shipped demo model, every Explorer view docked.

    Generating the cohort (the first time; then it is cached) and embedding it run in
    workers with progress bars. Meanwhile demo subject 0 is shown (napari wants layers back
    from a sample); those preview layers go once the Explorer's own views are in. Without
    a viewer, only subject 0's layers are returned.
    """
    import napari

    from ..cohort.synthetic import generate_cohort
    from ..widgets.standalone.explorer_launcher import ExplorerLauncher

    preview = subject_layers(generate_cohort(1).subject(0), prefix=PREVIEW_PREFIX)
    viewer = napari.current_viewer()
    if viewer is None:
        return preview
    launcher = ExplorerLauncher(viewer)
    viewer.window.add_dock_widget(launcher, name="Latent Space Explorer", area="right")
    launcher.opened.connect(_remove_preview)
    launcher.open("demo", "demo")
    return preview


def _remove_preview(explorer) -> None:
    import napari

    viewer = napari.current_viewer()
    if viewer is None:
        return
    for layer in [layer for layer in viewer.layers if layer.name.startswith(PREVIEW_PREFIX)]:
        viewer.layers.remove(layer)
