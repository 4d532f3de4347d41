"""Slider group: a latent slider drag -> the edited cine layer replaced and drawn, in a real napari viewer.

Model: the shipped demo model. Cohort: a few demo subjects generated into a temporary store.
Isolated drags (one ``explorer.set_latent_dimension`` at a time) time the layer update and the
napari canvas draw; a continuous drag at 60 mouse events per second counts how often the
edited layer reaches the screen (latest-wins decoding drops stale requests).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._fixtures import demo_model, generated_store
from ._qt import qt_app, record_renderer
from .runner import BenchContext
from .timing import Timing


def _scene_canvas(viewer) -> Any:
    """The viewer's vispy SceneCanvas (private napari attributes; benchmark only)."""
    return viewer.window._qt_viewer.canvas._scene_canvas


def run(ctx: BenchContext) -> None:
    import napari

    from ..explorer import Explorer
    from ..widgets.views.decoded_views import DecodedViews

    repeats, seconds = ctx.pick((8, 1.5), (40, 4.0))
    app = qt_app()
    model = demo_model()
    cohort = generated_store(ctx.tmp / "slider.zarr", ctx.pick(8, 48))
    explorer = Explorer.open(cohort, model)
    viewer = napari.Viewer(show=True)
    views = None
    try:
        viewer.window.resize(1400, 900)
        views = DecodedViews(explorer, viewer)
        viewer.window.add_dock_widget(views.widget, name="12-lead ECG", area="bottom")
        record_renderer(ctx.machine)
        _measure(ctx, app, explorer, views, _scene_canvas(viewer), repeats, seconds)
    finally:
        if views is not None:
            views.close()
        viewer.close()
        app.processEvents()


def _measure(ctx: BenchContext, app, explorer, views, canvas, repeats: int, seconds: float) -> None:
    state: dict[str, Any] = {"shown": None}
    draws: list[float] = []  # when each canvas draw finished
    canvas.events.draw.connect(lambda _e: draws.append(time.perf_counter()), position="last")
    views.edited_shown.connect(lambda z: state.__setitem__("shown", (time.perf_counter(), z)))

    def pump_until(cond, timeout: float = 60.0) -> None:
        end = time.perf_counter() + timeout
        while not cond():
            app.processEvents()
            if time.perf_counter() > end:
                raise TimeoutError("the edited layer was not updated in time")
            time.sleep(0.0005)

    explorer.focus(0)
    pump_until(lambda: state["shown"] is not None and "original" in views.layers and bool(draws))
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    latents = explorer.latents()
    dim = int(np.argmax(latents.var(axis=0)))
    base = float(explorer.latent[dim])
    spread = float(latents[:, dim].std()) or 0.1

    redraw_ms = []
    for _ in range(ctx.pick(5, 10)):
        t0 = time.perf_counter()
        canvas.update()
        pump_until(lambda t=t0: draws[-1] > t)
        redraw_ms.append((draws[-1] - t0) * 1e3)

    layer_ms, draw_ms, decode_ms = [], [], []
    for i in range(repeats + 3):
        state["shown"] = None
        t0 = time.perf_counter()
        explorer.set_latent_dimension(dim, base + spread * np.sin(i))
        pump_until(lambda: state["shown"] is not None)
        t_layer = state["shown"][0]
        pump_until(lambda t=t_layer: draws[-1] > t)
        if i >= 3:  # warm-up
            layer_ms.append((t_layer - t0) * 1e3)
            draw_ms.append((next(t for t in draws if t > t_layer) - t0) * 1e3)
            decode_ms.append(views.edited_decoder.last_decode_ms)
    layer, drawn, decode, redraw = (Timing.of(x) for x in (layer_ms, draw_ms, decode_ms, redraw_ms))
    what = f"slider drag (latent {explorer.model.latent_dim}-D demo model)"
    ctx.add(f"{what} -> edited layer data replaced, median", layer.median_ms, "ms", notes=f"{layer.n} drags")
    ctx.add(f"{what} -> edited layer drawn, median", drawn.median_ms, "ms", notes=f"{drawn.n} drags; target <= 33 ms")
    ctx.add(f"{what} -> edited layer drawn, p95", drawn.p95_ms, "ms", notes=f"{drawn.n} drags")
    ctx.add("of which: decode alone (background thread), median", decode.median_ms, "ms")
    ctx.add("napari canvas redraw with nothing changed, median", redraw.median_ms, "ms", notes=f"{redraw.n} draws")

    sent: list[tuple[float, float]] = []
    shown: list[tuple[float, float]] = []
    views.edited_shown.connect(lambda z: shown.append((time.perf_counter(), float(z[dim]))))
    requests0 = views.edited_decoder.requests
    start = next_event = time.perf_counter()
    k = 0
    while time.perf_counter() - start < seconds:
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
    duration = time.perf_counter() - start
    sent_at = {v: t for t, v in sent}
    latency = [(t - sent_at[v]) * 1e3 for t, v in shown if v in sent_at]
    requests = views.edited_decoder.requests - requests0
    ctx.add(
        "continuous 60 Hz drag: edited layer updates",
        len(shown) / duration,
        "updates/s",
        notes=f"{requests} requests in {duration:.1f} s; stale ones dropped (latest wins)",
    )
    if latency:
        lat = Timing.of(latency)
        ctx.add(
            "continuous 60 Hz drag: request -> layer updated, median",
            lat.median_ms,
            "ms",
            notes=f"{lat.n} updates shown; p95 {lat.p95_ms:.0f} ms",
        )
