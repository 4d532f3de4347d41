"""Slider drag -> edited cine layer on screen, end to end in a real napari viewer.

Run under a display (Xvfb on a headless machine)::

    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/bench_slider.py [--json out.json]

Model: ``--model`` (a checkpoint), else the shipped demo model when ``load_demo_model()``
works, else the tiny untrained test model (latent_dim 8); the output says which. A small synthetic cohort is generated
into a temporary directory (or pass ``--store``). Two measurements:

* ``isolated``: one ``explorer.set_latent_dimension`` at a time; the time until the edited
  layer's data has been replaced (``layer_replaced``) and until the napari canvas has drawn
  it (``canvas_drawn``); for scale, the decode alone and a canvas redraw with nothing changed.
* ``continuous``: a drag at 60 mouse events per second for ``--seconds``; how often the
  edited layer is redrawn, how many requests latest-wins dropped, and the latency of each
  update that reached the screen (from its own ``set_latent_dimension``).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    return {
        "n": len(values),
        "median_ms": round(float(np.median(arr)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "max_ms": round(float(arr.max()), 2),
    }


def _load_model(path: str | None = None) -> tuple[Any, str]:
    from napari_latent.model import NETWORK_SIZES, build_model, load_demo_model, load_model

    if path:
        return load_model(path), f"checkpoint {path}"
    try:
        return load_demo_model(), "demo"
    except Exception as exc:  # noqa: BLE001 - fall back to the tiny model, and say so
        import torch

        torch.manual_seed(0)
        return build_model({"latent_dim": 8, **NETWORK_SIZES["tiny"]}).eval(), f"tiny (demo model unavailable: {str(exc).splitlines()[0][:120]})"


def _scene_canvas(viewer):
    """The vispy SceneCanvas of the viewer (private napari attributes; benchmark only)."""
    return viewer.window._qt_viewer.canvas._scene_canvas


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="cohort store (default: generate 48 synthetic subjects)")
    parser.add_argument("--model", help="a checkpoint directory (default: the demo model, else the tiny model)")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--json", help="also write the JSON here")
    args = parser.parse_args(argv)

    import napari
    import torch
    from qtpy.QtWidgets import QApplication

    from napari_latent.cohort import open_cohort
    from napari_latent.cohort.synthetic import generate_cohort
    from napari_latent.explorer import Explorer
    from napari_latent.widgets.decoded_views import DecodedViews

    model, which = _load_model(args.model)
    tmp = None
    if args.store:
        cohort = open_cohort(args.store)
    else:
        tmp = tempfile.TemporaryDirectory()
        cohort = generate_cohort(48, seed=0, path=Path(tmp.name) / "bench48.zarr", workers=1)
    explorer = Explorer.open(cohort, model)
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1400, 900)
    app = QApplication.instance()
    views = DecodedViews(explorer, viewer)
    viewer.window.add_dock_widget(views.widget, name="12-lead ECG", area="bottom")
    canvas = _scene_canvas(viewer)
    state: dict[str, Any] = {"shown": None}
    draws: list[float] = []  # when each canvas draw finished
    canvas.events.draw.connect(lambda _e: draws.append(time.perf_counter()), position="last")
    views.edited_shown.connect(lambda z: state.__setitem__("shown", (time.perf_counter(), z)))

    def pump_until(cond, timeout=30.0):
        end = time.perf_counter() + timeout
        while not cond():
            app.processEvents()
            if time.perf_counter() > end:
                raise TimeoutError("the edited layer was not updated in time")
            time.sleep(0.0005)

    state["shown"] = None
    explorer.focus(0)
    pump_until(lambda: state["shown"] is not None and "original" in views.layers and bool(draws))
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    dim = int(np.argmax(explorer.latents().var(axis=0)))
    base = float(explorer.latent[dim])
    spread = float(explorer.latents()[:, dim].std()) or 0.1

    # the canvas alone: a redraw with nothing changed (software GL under Xvfb is most of it)
    redraw_ms = []
    for _ in range(10):
        t0 = time.perf_counter()
        canvas.update()
        pump_until(lambda t=t0: draws[-1] > t)
        redraw_ms.append((draws[-1] - t0) * 1e3)

    # isolated drags
    layer_ms, draw_ms, decode_ms = [], [], []
    for i in range(args.repeats + 3):
        state["shown"] = None
        t0 = time.perf_counter()
        explorer.set_latent_dimension(dim, base + spread * np.sin(i))
        pump_until(lambda: state["shown"] is not None)
        t_layer = state["shown"][0]
        pump_until(lambda t=t_layer: draws[-1] > t)
        t_draw = next(t for t in draws if t > t_layer)
        if i >= 3:  # warm-up
            layer_ms.append((t_layer - t0) * 1e3)
            draw_ms.append((t_draw - t0) * 1e3)
            decode_ms.append(views.edited_decoder.last_decode_ms)

    # continuous drag at 60 Hz
    sent: list[tuple[float, float]] = []
    shown: list[tuple[float, float]] = []
    views.edited_shown.connect(lambda z: shown.append((time.perf_counter(), float(z[dim]))))
    requests0, decodes0, drawn0 = views.edited_decoder.requests, views.edited_decoder.decodes, len(draws)
    start = time.perf_counter()
    next_event = start
    k = 0
    while time.perf_counter() - start < args.seconds:
        now = time.perf_counter()
        if now >= next_event:
            value = base + spread * np.sin(k * 0.05) + 1e-4 * k  # unique per event
            sent.append((now, float(np.float32(value))))
            explorer.set_latent_dimension(dim, value)
            k += 1
            next_event += 1 / 60
        app.processEvents()
        time.sleep(0.0005)
    pump_until(lambda: not views.edited_decoder.busy)
    for _ in range(10):
        app.processEvents()
    sent_at = {v: t for t, v in sent}
    latency = [(t - sent_at[v]) * 1e3 for t, v in shown if v in sent_at]
    duration = time.perf_counter() - start
    result = {
        "benchmark": "slider drag -> edited cine layer",
        "model": which,
        "latent_dim": int(model.latent_dim),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "isolated": {
            "layer_replaced": _percentiles(layer_ms),
            "canvas_drawn": _percentiles(draw_ms),
            "decode_only": _percentiles(decode_ms),
            "canvas_redraw_only": _percentiles(redraw_ms),
        },
        "continuous_60hz": {
            "requests": views.edited_decoder.requests - requests0,
            "decodes": views.edited_decoder.decodes - decodes0,
            "layer_updates_per_s": round(len(shown) / duration, 1),
            "canvas_draws_per_s": round((len(draws) - drawn0) / duration, 1),
            "latency_of_shown_updates": _percentiles(latency),
        },
    }
    views.close()
    viewer.close()
    if tmp is not None:
        tmp.cleanup()
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
