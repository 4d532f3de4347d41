"""A 12-lead ECG plot on ECG paper, drawn with vispy.

Two layouts share one canvas, in millimetres of paper at 25 mm/s and 10 mm/mV:

* ``"rhythm"``: the standard clinical print, 3 rows x 4 columns of 2.5 s segments
  (I, aVR, V1, V4 / II, aVL, V2, V5 / III, aVF, V3, V6) and a 10 s lead II rhythm strip.
* ``"median"``: a 3 x 4 grid of the 1.2 s median beat of each lead, for comparing an
  original beat with decoded ones.
* ``"strip"``: the 12 median beats in one row (I, II, III, aVR, aVL, aVF, V1-V6), the
  proportions of a rhythm strip, for a wide and short dock.
* ``"overlay"``: the 12 median beats superimposed on one baseline (global intervals).

The legend sits beside the paper (a Qt label), never over the traces.

Every trace is one vispy ``Line`` whose connectivity breaks it into panels, so replacing
a trace only rewrites one vertex buffer. Traces are smoothed (GL line antialiasing) on a
graphics card; on a software renderer (Mesa llvmpipe) smoothing doubled the cost of a
redraw, so traces are drawn crisp there. The widget holds drawing state only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QLabel, QWidget
from vispy import scene
from vispy.color import Color

from napari_latent.cohort.schema import (
    ECG_FS,
    ECG_MEDIAN_SAMPLES,
    ECG_RHYTHM_SAMPLES,
    LEADS,
)

__all__ = ["EcgPlot", "Mode"]

Mode = Literal["rhythm", "median", "strip", "overlay"]
#: Modes that draw the median beat (the others draw the rhythm).
MEDIAN_MODES = ("median", "strip", "overlay")
ColorLike = str | tuple[float, ...]

MM_PER_S = 25.0
MM_PER_MV = 10.0
#: The clinical 3 x 4 arrangement; columns are consecutive 2.5 s windows in rhythm mode.
PANEL_ROWS: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
RHYTHM_LEAD = "II"

_PAPER = "#fffafa"
_MINOR = "#f7caca"
_MAJOR = "#e8908f"
_INK = "#000000"
_PALETTE = ("#000000", "#1f4fd1", "#1a8f3c", "#8e2bb0", "#e07b00", "#00838f")

_ROW_PITCH = 35.0  # mm between baselines
_SIGNAL_X0 = 10.0  # mm; the calibration pulse sits left of this
_SHAPES = {"rhythm": (len(LEADS), ECG_RHYTHM_SAMPLES), "median": (len(LEADS), ECG_MEDIAN_SAMPLES)}
#: OpenGL renderer names (lower case) that rasterise on the CPU.
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swiftshader", "software")
STRIP_ORDER = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@dataclass(frozen=True)
class _Layout:
    """Where every plotted sample of one mode lands on the paper (mm)."""

    size: tuple[float, float]  # paper width, height
    take: np.ndarray  # (N,) flat index into a (12, samples) array
    x: np.ndarray  # (N,) paper x of each plotted sample
    baseline: np.ndarray  # (N,) paper y of 0 mV
    connect: np.ndarray  # (N,) bool, sample i joins sample i + 1
    ink: np.ndarray  # (M, 2) segment pairs: calibration pulses and lead-change ticks
    labels: tuple[str, ...]
    label_pos: np.ndarray  # (K, 2)


@dataclass
class _Trace:
    rhythm: np.ndarray | None
    median: np.ndarray | None
    color: Color
    width: float
    visual: scene.visuals.Line
    pos: np.ndarray | None = None


def _calibration_pulse(baseline: float) -> list[tuple[float, float]]:
    """Segment pairs of a 1 mV, 0.2 s calibration pulse ending at the signal start."""
    b, top = baseline, baseline + 1.0 * MM_PER_MV
    pts = [(2.0, b), (3.0, b), (3.0, top), (8.0, top), (8.0, b), (_SIGNAL_X0, b)]
    return [p for a, c in zip(pts[:-1], pts[1:]) for p in (a, c)]


def _panels_layout(
    panels: list[tuple[int, int, int, float, float]],
    samples: int,
    size: tuple[float, float],
    ink: list[tuple[float, float]],
    labels: list[tuple[str, float, float]],
) -> _Layout:
    """Build a layout from panels (lead, first sample, n samples, x0 mm, baseline mm)."""
    take, x, base, connect = [], [], [], []
    for lead, start, n, x0, b in panels:
        idx = np.arange(start, start + n)
        take.append(lead * samples + idx)
        x.append(x0 + (idx - start) / ECG_FS * MM_PER_S)
        base.append(np.full(n, b))
        joined = np.ones(n, bool)
        joined[-1] = False
        connect.append(joined)
    return _Layout(
        size=size,
        take=np.concatenate(take),
        x=np.concatenate(x).astype(np.float32),
        baseline=np.concatenate(base).astype(np.float32),
        connect=np.concatenate(connect),
        ink=np.asarray(ink, np.float32).reshape(-1, 2),
        labels=tuple(name for name, _, _ in labels),
        label_pos=np.asarray([(lx, ly) for _, lx, ly in labels], np.float32),
    )


def _rhythm_layout() -> _Layout:
    """3 x 4 panels of 2.5 s plus a 10 s lead II strip, 265 x 155 mm."""
    seg = ECG_RHYTHM_SAMPLES // 4
    seg_mm = seg / ECG_FS * MM_PER_S
    baselines = [125.0, 90.0, 55.0, 20.0]
    panels, ink, labels = [], [], []
    for r, row in enumerate(PANEL_ROWS):
        b = baselines[r]
        ink += _calibration_pulse(b)
        for c, name in enumerate(row):
            x0 = _SIGNAL_X0 + c * seg_mm
            panels.append((LEADS.index(name), c * seg, seg, x0, b))
            labels.append((name, x0 + 1.5, b + 13.0))
            if c:
                ink += [(x0, b - 4.0), (x0, b + 4.0)]
    b = baselines[3]
    ink += _calibration_pulse(b)
    panels.append((LEADS.index(RHYTHM_LEAD), 0, ECG_RHYTHM_SAMPLES, _SIGNAL_X0, b))
    labels.append((RHYTHM_LEAD, _SIGNAL_X0 + 1.5, b + 13.0))
    return _panels_layout(panels, ECG_RHYTHM_SAMPLES, (265.0, 155.0), ink, labels)


def _median_layout() -> _Layout:
    """3 x 4 panels of the 1.2 s median beat, one bold square apart, 150 x 125 mm."""
    beat_mm = ECG_MEDIAN_SAMPLES / ECG_FS * MM_PER_S
    pitch = beat_mm + 5.0
    baselines = [95.0, 60.0, 25.0]
    panels, ink, labels = [], [], []
    for r, row in enumerate(PANEL_ROWS):
        b = baselines[r]
        ink += _calibration_pulse(b)
        for c, name in enumerate(row):
            x0 = _SIGNAL_X0 + c * pitch
            panels.append((LEADS.index(name), 0, ECG_MEDIAN_SAMPLES, x0, b))
            labels.append((name, x0 + 1.0, b + 18.0))
    return _panels_layout(panels, ECG_MEDIAN_SAMPLES, (150.0, 125.0), ink, labels)


def _strip_layout() -> _Layout:
    """The 12 median beats in one row, 440 x 40 mm: a rhythm strip's proportions."""
    beat_mm = ECG_MEDIAN_SAMPLES / ECG_FS * MM_PER_S
    pitch = beat_mm + 5.0
    b = 18.0
    panels, ink, labels = [], _calibration_pulse(b), []
    for c, name in enumerate(STRIP_ORDER):
        x0 = _SIGNAL_X0 + c * pitch
        panels.append((LEADS.index(name), 0, ECG_MEDIAN_SAMPLES, x0, b))
        labels.append((name, x0 + 1.0, b + 16.0))
        if c:
            ink += [(x0 - 2.5, b - 3.0), (x0 - 2.5, b + 3.0)]
    return _panels_layout(panels, ECG_MEDIAN_SAMPLES, (_SIGNAL_X0 + 12 * pitch, 40.0), ink, labels)


def _overlay_layout() -> _Layout:
    """The 12 median beats superimposed on one baseline, 45 x 50 mm."""
    beat_mm = ECG_MEDIAN_SAMPLES / ECG_FS * MM_PER_S
    b = 22.0
    panels = [(LEADS.index(name), 0, ECG_MEDIAN_SAMPLES, _SIGNAL_X0, b) for name in STRIP_ORDER]
    labels = [("12 leads superimposed", _SIGNAL_X0 + 1.0, b + 24.0)]
    return _panels_layout(panels, ECG_MEDIAN_SAMPLES, (_SIGNAL_X0 + beat_mm + 5.0, 50.0), _calibration_pulse(b), labels)


_LAYOUTS: dict[str, _Layout] = {
    "rhythm": _rhythm_layout(),
    "median": _median_layout(),
    "strip": _strip_layout(),
    "overlay": _overlay_layout(),
}


def _grid_segments(width: float, height: float, step: int, skip: int = 0) -> np.ndarray:
    """Segment pairs of grid lines every ``step`` mm, leaving out multiples of ``skip``."""
    xs = [v for v in range(0, int(width) + 1, step) if not (skip and v % skip == 0)]
    ys = [v for v in range(0, int(height) + 1, step) if not (skip and v % skip == 0)]
    seg = [((v, 0.0), (v, height)) for v in xs] + [((0.0, v), (width, v)) for v in ys]
    return np.asarray(seg, np.float32).reshape(-1, 2)


def _as_leads(data: np.ndarray | None, kind: str) -> np.ndarray | None:
    """Validate one ECG array against the schema; ``None`` passes through."""
    if data is None:
        return None
    arr = np.asarray(data, dtype=np.float32)
    shape = _SHAPES[kind]
    if arr.shape != shape:
        what = "10 s rhythm" if kind == "rhythm" else "1.2 s median beat"
        raise ValueError(
            f"{kind} must have shape {shape} (leads {', '.join(LEADS)} x samples of the "
            f"{what} at {ECG_FS} Hz, in mV); got shape {arr.shape}"
        )
    return arr


class EcgPlot(QWidget):
    """A 12-lead ECG on ECG paper (vispy), with named overlaid traces.

    Pan with the mouse, zoom with the wheel, double-click to reset the view.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._traces: dict[str, _Trace] = {}
        self._mode: Mode = "rhythm"
        self._legend_key: tuple = ()
        self._median_mode: Mode = "median"
        self._minor_alpha = 1.0
        self._renderer_asked = 0
        self._renderer: str | None = None
        self._canvas = scene.SceneCanvas(keys=None, bgcolor=_PAPER, size=(900, 560))
        self._canvas.events.draw.connect(self._check_renderer)
        self._view = self._canvas.central_widget.add_view(bgcolor=_PAPER)
        self._view.camera = scene.PanZoomCamera(aspect=1)
        self._build_paper()
        self.legend = QLabel()
        self.legend.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.legend.setToolTip("traces on the paper; 25 mm/s, 10 mm/mV")
        self.legend.setStyleSheet(f"background: {_PAPER}; color: {_INK}; padding: 4px")
        self.legend.setFixedWidth(150)  # a fixed column: the paper does not move when traces come and go
        self._canvas.events.mouse_double_click.connect(lambda _event: self.reset_view())
        self._view.events.resize.connect(lambda _event: self.reset_view())
        self._view.camera.transform.changed.connect(lambda _event: self._fade_minor_grid())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._canvas.native, 1)
        layout.addWidget(self.legend)
        self._canvas.native.setMinimumSize(300, 100)
        self._show_paper()

    # ------------------------------------------------------------------ public API
    @property
    def traces(self) -> list[str]:
        """Names of the traces, in drawing order."""
        return list(self._traces)

    @property
    def mode(self) -> Mode:
        """``"rhythm"`` (3 x 4 + rhythm strip), ``"median"`` (3 x 4 median beats), ``"strip"``
        (12 median beats in a row) or ``"overlay"`` (12 median beats superimposed)."""
        return self._mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        if value not in _LAYOUTS:
            raise ValueError(f"mode must be one of {', '.join(map(repr, _LAYOUTS))}; got {value!r}")
        if value in MEDIAN_MODES:
            self._median_mode = value
        if value != self._mode:
            self._mode = value
            self._show_paper()
            for trace in self._traces.values():
                self._draw_trace(trace, new_layout=True)
            self._update_legend()

    def set_trace(
        self,
        name: str,
        rhythm: np.ndarray | None = None,
        median: np.ndarray | None = None,
        color: ColorLike | None = None,
        width: float = 1.5,
    ) -> None:
        """Add the trace ``name`` or replace its data in place.

        ``rhythm`` is (12, 5000) mV, ``median`` (12, 600) mV, leads in schema order; give
        either or both. ``color`` defaults to the trace's current colour, else the next
        palette colour. If the current mode has nothing to show, the plot switches mode.
        """
        rhythm, median = _as_leads(rhythm, "rhythm"), _as_leads(median, "median")
        if rhythm is None and median is None:
            raise ValueError("set_trace needs a rhythm (12, 5000) or a median (12, 600) array")
        trace = self._traces.get(name)
        if trace is None:
            trace = self._new_trace(name, color)
        elif color is not None:
            trace.color = Color(color)
            trace.visual.set_data(color=trace.color)
        trace.rhythm, trace.median, trace.width = rhythm, median, float(width)
        if not self._auto_mode():
            self._draw_trace(trace)
        self._update_legend()

    def trace_data(self, name: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(rhythm, median)`` of trace ``name`` as drawn, in mV; raises ``KeyError`` if there is none."""
        trace = self._traces[name]
        return trace.rhythm, trace.median

    def remove_trace(self, name: str) -> None:
        """Remove one trace; raises ``KeyError`` if there is none of that name."""
        trace = self._traces.pop(name)
        trace.visual.parent = None
        self._auto_mode()
        self._update_legend()
        self._canvas.update()

    def clear(self) -> None:
        """Remove every trace; the paper stays."""
        for name in self.traces:
            self.remove_trace(name)

    def reset_view(self) -> None:
        """Fit the whole sheet of paper in the canvas.

        The clinical print and the strip keep square millimetres; the 3 x 4 grid and the
        overlay fill the canvas (a wide dock stretches their time axis instead of leaving
        most of it blank).
        """
        width, height = _LAYOUTS[self._mode].size
        self._view.camera.aspect = 1 if self._mode in ("rhythm", "strip") else None
        self._view.camera.set_range(x=(0, width), y=(0, height), margin=0.01)

    def screenshot(self) -> np.ndarray:
        """The canvas rendered now, as an (H, W, 4) uint8 RGBA array."""
        return self._canvas.render()

    # ------------------------------------------------------------------ paper
    def _build_paper(self) -> None:
        """Create the static visuals: grid, calibration pulses and lead names."""
        line = scene.visuals.Line
        self._minor = line(connect="segments", color=_MINOR, width=1.0, parent=self._view.scene)
        self._major = line(connect="segments", color=_MAJOR, width=1.6, parent=self._view.scene)
        self._ink = line(connect="segments", color=_INK, width=1.6, parent=self._view.scene)
        self._labels = scene.visuals.Text(
            color=_INK, font_size=9, bold=True, anchor_x="left", anchor_y="bottom",
            parent=self._view.scene,
        )  # fmt: skip
        for order, visual in enumerate((self._minor, self._major, self._ink, self._labels)):
            visual.order = order - 10
            visual.set_gl_state("translucent", depth_test=False)

    def _show_paper(self) -> None:
        """Draw the paper of the current mode and fit it in view."""
        layout = _LAYOUTS[self._mode]
        width, height = layout.size
        self._minor.set_data(pos=_grid_segments(width, height, 1, skip=5))
        self._major.set_data(pos=_grid_segments(width, height, 5))
        self._ink.set_data(pos=layout.ink)
        self._labels.text = list(layout.labels)
        self._labels.pos = layout.label_pos
        self.reset_view()

    def _fade_minor_grid(self) -> None:
        """Lighten the 1 mm grid when zoomed out so that it does not swamp the traces."""
        px_per_mm = abs(float(self._view.camera.transform.scale[0]))
        alpha = float(np.clip((px_per_mm - 1.5) / 3.0, 0.2, 1.0))
        if abs(alpha - self._minor_alpha) > 0.02:
            self._minor_alpha = alpha
            self._minor.set_data(color=Color(_MINOR, alpha=alpha))

    @property
    def renderer(self) -> str | None:
        """The OpenGL renderer that draws the paper (None until the plot has been drawn on screen)."""
        return self._renderer

    @property
    def smooth(self) -> bool:
        """Whether traces are antialiased (False on a software OpenGL renderer, once it is known)."""
        return not any(name in (self._renderer or "").lower() for name in SOFTWARE_RENDERERS)

    def _check_renderer(self, _event=None) -> None:
        """At a draw on screen (its GL context is current): crisp traces on a software renderer."""
        try:
            from vispy import gloo

            renderer = gloo.gl.glGetParameter(gloo.gl.GL_RENDERER)
        except Exception:  # noqa: BLE001 - unknown for now: ask again at the next draw
            renderer = None
        self._renderer_asked += 1
        if renderer or self._renderer_asked >= 5:
            self._canvas.events.draw.disconnect(self._check_renderer)
        if renderer:
            self._renderer = str(renderer)
        if not self.smooth:
            for trace in self._traces.values():
                trace.visual.antialias = False
            self._canvas.update()

    # ------------------------------------------------------------------ traces
    def _new_trace(self, name: str, color: ColorLike | None) -> _Trace:
        """Create the one Line visual of a new trace."""
        if color is None:
            used = {t.color.hex for t in self._traces.values()}
            free = [c for c in _PALETTE if Color(c).hex not in used]
            color = free[0] if free else _PALETTE[len(self._traces) % len(_PALETTE)]
        visual = scene.visuals.Line(
            connect=_LAYOUTS[self._mode].connect, color=Color(color), antialias=self.smooth,
            parent=self._view.scene,
        )  # fmt: skip
        visual.set_gl_state("translucent", depth_test=False)
        visual.order = len(self._traces)
        trace = _Trace(rhythm=None, median=None, color=Color(color), width=1.5, visual=visual)
        self._traces[name] = trace
        return trace

    def _data(self, trace: _Trace, mode: str) -> np.ndarray | None:
        return trace.rhythm if mode == "rhythm" else trace.median

    def _draw_trace(self, trace: _Trace, new_layout: bool = False) -> None:
        """Write the trace's vertices for the current mode into its visual."""
        data = self._data(trace, self._mode)
        trace.visual.visible = data is not None
        if data is None:
            return
        layout = _LAYOUTS[self._mode]
        if new_layout or trace.pos is None or len(trace.pos) != len(layout.x):
            trace.pos = np.empty((len(layout.x), 2), np.float32)
            trace.pos[:, 0] = layout.x
            new_layout = True
        y = trace.pos[:, 1]
        np.take(data.reshape(-1), layout.take, out=y)
        y *= MM_PER_MV
        y += layout.baseline
        connect = layout.connect if new_layout else None
        trace.visual.set_data(pos=trace.pos, width=trace.width, connect=connect)

    def _auto_mode(self) -> bool:
        """Switch mode when the current one has no data but the other has; True if switched."""
        other: Mode = self._median_mode if self._mode == "rhythm" else "rhythm"
        shown = any(self._data(t, self._mode) is not None for t in self._traces.values())
        if shown or not any(self._data(t, other) is not None for t in self._traces.values()):
            return False
        self.mode = other
        return True

    # ------------------------------------------------------------------ legend
    def _update_legend(self) -> None:
        """The legend beside the paper: one line of each shown trace's colour and name."""
        shown = [(n, t.color.hex) for n, t in self._traces.items() if t.visual.visible]
        key = tuple(shown)
        if key == self._legend_key:
            return
        self._legend_key = key
        rows = "".join(
            f"<tr><td style='color:{c}; font-weight:bold'>━━</td><td>&nbsp;{n}</td></tr>" for n, c in shown
        )
        self.legend.setText(f"<table>{rows}</table>" if shown else "")
