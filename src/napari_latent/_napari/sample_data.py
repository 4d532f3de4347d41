"""npe2 sample data: one demo subject, or the 1,000-subject demo cohort in the Explorer."""

from __future__ import annotations

from .layer_data import LayerData, subject_layers


def demo_subject() -> list[LayerData]:
    """Cine and labels of demo subject 0, generated on the spot (about 50 ms)."""
    from ..cohort.synthetic import generate_cohort

    cohort = generate_cohort(1)
    return subject_layers(cohort.subject(0))


def demo_cohort() -> list[LayerData]:
    """The 1,000-subject demo cohort with the shipped demo model, every Explorer view docked.

    Generating the cohort (the first time; then it is cached) and embedding it run in
    workers with progress bars; without a viewer, demo subject 0's layers are returned.
    """
    import napari

    from ..widgets.explorer_launcher import ExplorerLauncher

    viewer = napari.current_viewer()
    if viewer is None:
        from ..cohort.synthetic import demo_cohort as load

        return subject_layers(load().subject(0))
    launcher = ExplorerLauncher(viewer)
    viewer.window.add_dock_widget(launcher, name="Latent Space Explorer", area="right")
    launcher.open("demo", "demo")
    return []
