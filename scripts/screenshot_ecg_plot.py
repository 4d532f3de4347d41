"""Render the documentation screenshots of the 12-lead ECG plot from the synthetic cohort.

Writes ``docs/images/ecg_plot_example.png`` (rhythm layout, one subject) and
``docs/images/ecg_plot_median.png`` (median beats of two subjects overlaid; the second
stands in for a decoded beat). Needs a GL display; on a headless machine run::

    xvfb-run -a python scripts/screenshot_ecg_plot.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QApplication
from vispy.io import write_png

from napari_latent.cohort.ecg_processing import median_beat
from napari_latent.cohort.synthetic.ecg import synthesize_ecg
from napari_latent.cohort.synthetic.factors import sample_factors, subject_rng
from napari_latent.widgets.plots.ecg_plot import EcgPlot

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def subject_ecg(seed: int, index: int) -> np.ndarray:
    """The synthetic (12, 5000) rhythm strip of one subject of the demo cohort."""
    return synthesize_ecg(sample_factors(seed, index), subject_rng(seed, index, stream=1))


def render(app: QApplication, plot: EcgPlot, size: tuple[int, int], path: Path) -> None:
    """Resize, let Qt lay the widget out, and save the canvas as PNG."""
    plot.resize(*size)
    plot.show()
    for _ in range(5):
        app.processEvents()
    plot.reset_view()
    write_png(str(path), plot.screenshot())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="demo cohort seed")
    parser.add_argument("--subjects", type=int, nargs=2, default=(0, 1), metavar="INDEX")
    parser.add_argument("--out", type=Path, default=IMAGES, help="output folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])

    first, second = (subject_ecg(args.seed, i) for i in args.subjects)
    plot = EcgPlot()
    plot.set_trace(f"subject {args.subjects[0]}", rhythm=first, color="black")
    render(app, plot, (1400, 820), args.out / "ecg_plot_example.png")

    plot.clear()
    plot.set_trace("original", median=median_beat(first), color="black")
    plot.set_trace("decoded", median=median_beat(second), color="#1f4fd1")
    render(app, plot, (1000, 840), args.out / "ecg_plot_median.png")
    plot.close()


if __name__ == "__main__":
    main()
