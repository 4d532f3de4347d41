"""Session group: the Explorer at 100,000 subjects with every view docked, in a fresh process.

The child process builds the scale sample (:func:`napari_latent.scale.scale_explorer`: a
generated table and 3 x 256-d synthetic latents with their PCA maps), docks every view in
a napari viewer, lassos in the fused scatter, waits for the linked charts, focuses a
subject, and reports its peak resident memory (``ru_maxrss``) and timings. A fresh process,
so nothing the other groups loaded counts against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from .runner import BenchContext

N = 100_000
DIM = 256


def run(ctx: BenchContext) -> None:
    n = ctx.pick(20_000, N)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run(
        [sys.executable, "-m", "napari_latent.bench.session", str(n)],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the session process failed ({proc.returncode}): {proc.stderr[-600:]}")
    out = json.loads(lines[-1])
    what = f"Explorer session, {n:,} subjects, 3 x {DIM}-d latents, every view docked"
    ctx.add(f"{what}: peak RSS", out["peak_rss_gib"], "GiB", notes="ru_maxrss of a fresh process; target <= 2 GiB")
    ctx.add(f"{what}: build the session (table, latents, PCA maps)", out["build_s"], "s")
    ctx.add(f"{what}: dock every view", out["dock_s"], "s")
    ctx.add(f"{what}: lasso -> linked charts counted", out["brush_ms"], "ms", notes=f"{out['selected']:,} selected")
    ctx.add(f"{what}: first focus -> layers created, views settled", out["focus_first_ms"], "ms")
    ctx.add(f"{what}: focus another subject -> views settled", out["focus_ms"], "ms")


def _child(n: int) -> dict:
    import resource

    import numpy as np
    from qtpy.QtWidgets import QApplication

    from ..scale import scale_explorer
    from ._qt import qt_app
    from .scatter import lasso_polygons

    t0 = time.perf_counter()
    ex = scale_explorer(n, dim=DIM)
    build = time.perf_counter() - t0
    app = qt_app()
    import napari

    from ..widgets.views.layout import dock_explorer

    t0 = time.perf_counter()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1800, 1100)
    docks = dock_explorer(ex, viewer)
    for _ in range(10):
        app.processEvents()
    dock = time.perf_counter() - t0
    fused = docks.scatters["fused"]
    t0 = time.perf_counter()
    fused.lasso(lasso_polygons(fused.coords)[0])
    docks.distributions.flush()
    brush = (time.perf_counter() - t0) * 1e3
    focus = []
    for index in np.flatnonzero(ex.selection_mask)[:2]:  # the first creates the layers
        t0 = time.perf_counter()
        ex.focus(int(index))
        for _ in range(5):
            QApplication.processEvents()
        focus.append((time.perf_counter() - t0) * 1e3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    docks.decoded.close()
    viewer.close()
    return {
        "peak_rss_gib": round(peak / 2**30, 2), "build_s": round(build, 1), "dock_s": round(dock, 1),
        "brush_ms": round(brush, 1), "focus_first_ms": round(focus[0], 1), "focus_ms": round(focus[1], 1), "selected": int(len(ex.selection)),
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(_child(int(sys.argv[1]) if len(sys.argv) > 1 else N)), flush=True)
