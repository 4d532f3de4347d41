"""Screenshots of docs/tour.md at 1920 x 1080: the whole window and the views it shows.

Run under a display (or ``xvfb-run -a -s "-screen 0 1920x1080x24"``):
    python scripts/screenshot_tour.py [OUT_DIR] [N_SUBJECTS]

Writes demo_layout.png (every view docked, a selection, a direction, an interpolation),
decoded_views.png (the canvas and the 12-lead ECG dock), decoded_views_1x4.png,
ecg_grid.png, distributions.png, latent_sliders.png, groups_panel.png and probe_panel.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def _wait(app, condition, timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the views did not finish in time")
        app.processEvents()
        time.sleep(0.02)


def _settle(app, seconds: float = 1.0) -> None:
    _wait(app, lambda end=time.monotonic() + seconds: time.monotonic() > end)


def main() -> None:
    import napari
    from qtpy.QtWidgets import QApplication, QDockWidget

    from napari_latent.cohort.synthetic import demo_cohort
    from napari_latent.explorer import Explorer
    from napari_latent.widgets.views.layout import dock_explorer

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else None
    out.mkdir(parents=True, exist_ok=True)
    ex = Explorer.open(demo_cohort() if n is None else demo_cohort(n), "demo")
    viewer = napari.Viewer()
    window = viewer.window._qt_window
    window.resize(1920, 1080)
    docks = dock_explorer(ex, viewer)
    app = QApplication.instance()
    ex.focus(0)
    _wait(app, lambda: "edited" in viewer.layers and not docks.decoded.edited_decoder.busy)

    # a selection from the charts (AND filter: hypertension, aged 60 to 80)
    dist = docks.distributions
    dist.and_button.setChecked(True)
    for column in ("hypertension", "age"):
        if column not in dist.charts:
            dist.add_chart(column)
    dist.click_category("hypertension", "yes")
    dist.brush("age", 60, 80)
    docks.scatters["fused"].set_colour_by("ef")
    # a phenotype direction and two groups with their interpolation
    docks.sliders.add_direction("lvedv")
    _wait(app, lambda: "lvedv" in docks.sliders.directions)
    ex.add_group("prior_mi", "prior_mi == 1")
    ex.add_group("healthy", "prior_mi == 0 and hypertension == 0")
    docks.groups.select_rows(["prior_mi", "healthy"])
    done = []
    docks.groups.interpolated.connect(done.append)
    docks.groups.interp_button.click()
    _wait(app, lambda: bool(done))
    with_probes = []
    docks.probes.probes_finished.connect(with_probes.append)
    docks.probes.run(["age", "lvedv", "ef", "qrs_duration", "prior_mi"])
    _wait(app, lambda: bool(with_probes))
    viewer.reset_view()
    _settle(app, 2.0)
    window.grab().save(str(out / "demo_layout.png"))

    # the decoded views on their own: the interpolation layer hidden, the charts tab raised
    viewer.layers["interpolation"].visible = False
    viewer.layers["interpolation title"].visible = False
    docks.decoded._fit()
    _settle(app)
    window.grab().save(str(out / "decoded_views.png"))
    docks.decoded.widget.grab().save(str(out / "ecg_dock.png"))
    docks.decoded.columns = 4
    _settle(app)
    window.grab().save(str(out / "decoded_views_1x4.png"))
    docks.decoded.columns = 2
    docks.decoded.widget.ecg_layout.setCurrentIndex(1)
    _settle(app)
    docks.decoded.widget.grab().save(str(out / "ecg_grid.png"))
    docks.decoded.widget.ecg_layout.setCurrentIndex(0)

    for name, widget in (
        ("distributions", docks.distributions),
        ("latent_sliders", docks.sliders),
        ("groups_panel", docks.groups),
        ("probe_panel", docks.probes),
    ):
        dock = widget
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parent()
        if dock is not None:
            dock.raise_()
        _settle(app, 0.5)
        widget.grab().save(str(out / f"{name}.png"))
    viewer.close()


if __name__ == "__main__":  # the demo cohort is generated in spawned worker processes
    main()
