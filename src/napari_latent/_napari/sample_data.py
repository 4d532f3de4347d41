"""npe2 sample data: one demo subject, or the 1,000-subject demo cohort with its browser."""

from __future__ import annotations

from .layer_data import LayerData, subject_layers


def demo_subject() -> list[LayerData]:
    """Cine and labels of demo subject 0, generated on the spot (about 50 ms)."""
    from ..cohort.synthetic import generate_cohort

    cohort = generate_cohort(1)
    return subject_layers(cohort.subject(0))


def demo_cohort() -> list[LayerData]:
    """Open (generating once, then from the cache) the demo cohort in the subject browser."""
    import napari

    from ..widgets.subject_browser import SubjectBrowser

    viewer = napari.current_viewer()
    if viewer is None:
        from ..cohort.synthetic import demo_cohort as load

        return subject_layers(load().subject(0))
    browser = SubjectBrowser(viewer)
    viewer.window.add_dock_widget(browser, name="Cohort subject browser", area="right")
    browser.open_demo()
    return []
