"""Start-up group: the waits a user meets first, each in a fresh Python process (imports included).

* a tiny 2-epoch training: seconds from ``train()`` to its first step, with the background
  ``torch._dynamo`` import (:mod:`napari_latent.model._warmup`) and, as the baseline, without;
* *Open in Explorer* on a 12-subject store (needs a display): seconds until the views are
  docked (what the user sees first) and until the model is loaded and the cohort embedded,
  beside the blocking scripted path ``Explorer.open(store, "demo").show(viewer)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from ._fixtures import generated_store
from .runner import BenchContext, has_display

_TRAIN = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from napari_latent.cohort import open_cohort
    from napari_latent.model import _warmup, train
    if sys.argv[2] == "off":
        _warmup.start = lambda: None
    cohort = open_cohort(sys.argv[1])
    marks = {"imports_s": time.perf_counter() - t0}
    t1 = time.perf_counter()
    def cb(e):
        if e["event"] == "start" and "start_s" not in marks:
            marks["start_s"] = time.perf_counter() - t1
        if e["event"] == "step" and "first_step_s" not in marks:
            marks["first_step_s"] = time.perf_counter() - t1
    train(cohort, {"size": "tiny", "epochs": 2, "latent_dim": 16, "log_every": 1, "num_threads": 1}, callbacks=cb)
    print("MARKS " + json.dumps(marks))
    """
)

_OPEN = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import napari
    from qtpy.QtWidgets import QApplication
    viewer = napari.Viewer(show=True)
    marks = {"viewer_s": time.perf_counter() - t0}
    t1 = time.perf_counter()
    app = QApplication.instance()
    if sys.argv[2] == "launcher":
        from napari_latent.widgets.standalone.explorer_launcher import open_store_in_viewer
        done = []
        open_store_in_viewer(sys.argv[1], viewer, "demo", on_ready=done.append)
        app.processEvents()
        marks["docked_s"] = time.perf_counter() - t1
        while not done:
            app.processEvents()
            time.sleep(0.005)
    else:
        from napari_latent.explorer import Explorer
        ex = Explorer.open(sys.argv[1], "demo")
        ex.show(viewer)
        ex.focus(0)
        app.processEvents()
        marks["docked_s"] = time.perf_counter() - t1
    marks["ready_s"] = time.perf_counter() - t1
    print("MARKS " + json.dumps(marks))
    viewer.close()
    """
)


def _marks(ctx: BenchContext, script: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "NAPARI_LATENT_CACHE": str(ctx.tmp / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=900, env=env, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("MARKS "))
    return json.loads(line[len("MARKS "):])


def run(ctx: BenchContext) -> None:
    store = generated_store(ctx.tmp / "startup12.zarr", 12)
    path = str(store.path)
    runs = ctx.pick(1, 3)
    best = {}
    for mode in ("on", "off"):
        samples = [_marks(ctx, _TRAIN, path, mode) for _ in range(runs)]
        best[mode] = min(samples, key=lambda m: m["first_step_s"])
    ctx.add(
        "tiny 2-epoch training on 12 subjects: train() -> first step",
        best["on"]["first_step_s"],
        "s",
        baseline="same without the background torch._dynamo import",
        baseline_value=best["off"]["first_step_s"],
        notes=f"fresh process, best of {runs}; of which before the 'start' event "
        f"{best['on']['start_s']:.1f} s (baseline {best['off']['start_s']:.1f} s); imports before "
        f"train() {best['on']['imports_s']:.1f} s",
    )
    if not has_display():
        ctx.add("Open in Explorer (12 subjects)", None, "s", status="skipped", notes="needs a display")
        return
    launcher = _marks(ctx, _OPEN, path, "launcher")
    blocking = _marks(ctx, _OPEN, path, "blocking")
    ctx.add(
        "Open in Explorer, 12-subject store: views docked (window usable)",
        launcher["docked_s"],
        "s",
        baseline="Explorer.open(store, 'demo').show(viewer), blocking",
        baseline_value=blocking["docked_s"],
        notes=f"fresh process after napari.Viewer() ({launcher['viewer_s']:.1f} s)",
    )
    ctx.add(
        "Open in Explorer, 12-subject store: model loaded, cohort embedded, subject focused",
        launcher["ready_s"],
        "s",
        baseline="Explorer.open(store, 'demo').show(viewer), blocking",
        baseline_value=blocking["ready_s"],
    )
