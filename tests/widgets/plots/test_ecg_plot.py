"""Tests of the vispy 12-lead ECG plot (need a GL display: run under xvfb-run)."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, QPointF, Qt  # noqa: E402
from qtpy.QtGui import QWheelEvent  # noqa: E402
from qtpy.QtWidgets import QApplication, QWidget  # noqa: E402

from napari_latent.cohort.schema import ECG_MEDIAN_SAMPLES, ECG_RHYTHM_SAMPLES, LEADS  # noqa: E402
from napari_latent.widgets.plots.ecg_plot import EcgPlot  # noqa: E402

GREEN = (0.0, 0.8, 0.0)


def _rhythm(amplitude: float = 1.0) -> np.ndarray:
    """A (12, 5000) test signal: lead II a 1 Hz spike train, the others flat."""
    t = np.arange(ECG_RHYTHM_SAMPLES) / 500.0
    out = np.zeros((len(LEADS), ECG_RHYTHM_SAMPLES), np.float32)
    out[LEADS.index("II")] = amplitude * np.exp(-(((t % 1.0) - 0.5) ** 2) / (2 * 0.01**2))
    return out


def _median(amplitude: float = 1.0) -> np.ndarray:
    t = (np.arange(ECG_MEDIAN_SAMPLES) - 200) / 500.0
    beat = amplitude * np.exp(-(t**2) / (2 * 0.01**2))
    return np.tile(beat, (len(LEADS), 1)).astype(np.float32)


def _green_mask(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (g > 120) & (r < 90) & (b < 90)


@pytest.fixture
def plot(qtbot) -> EcgPlot:
    widget = EcgPlot()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_empty_plot_draws_paper(plot: EcgPlot) -> None:
    img = plot.screenshot()
    assert img.ndim == 3 and img.shape[2] == 4 and img.dtype == np.uint8
    assert plot.traces == [] and plot.mode == "rhythm"
    red_grid = (img[..., 0].astype(int) - img[..., 1]) > 40
    assert red_grid.mean() > 0.05  # pink/red grid lines cover the paper


def test_set_trace_draws_in_rhythm_strip(plot: EcgPlot) -> None:
    empty = plot.screenshot()
    plot.set_trace("original", rhythm=_rhythm(), color=GREEN)
    img = plot.screenshot()
    assert plot.traces == ["original"]
    assert not np.array_equal(img, empty)
    assert not _green_mask(empty).any()
    green = _green_mask(img)
    rows = np.flatnonzero(green.any(axis=1))
    assert rows.size
    # the lowest band of trace pixels is the 10 s lead II strip: it spans the paper's width
    strip = green[rows.max() - 15 : rows.max() + 1]
    cols = np.flatnonzero(strip.any(axis=0))
    assert cols.max() - cols.min() > 0.8 * img.shape[1]
    # lead II's spikes (1 mV = 10 mm) rise well above the strip's baseline
    lowest_rows = rows[rows > img.shape[0] * 0.6]
    assert lowest_rows.max() - lowest_rows.min() > 10


def test_replacing_a_trace_updates_in_place(plot: EcgPlot) -> None:
    plot.set_trace("decoded", rhythm=_rhythm(0.5), color=GREEN)
    first = plot.screenshot()
    for i in range(50):
        plot.set_trace("decoded", rhythm=_rhythm(0.5 + 0.03 * i))
    assert plot.traces == ["decoded"]
    last = plot.screenshot()
    assert not np.array_equal(first, last)
    assert _green_mask(last).any()  # the colour is kept when not given again


def test_two_traces_and_legend(plot: EcgPlot) -> None:
    plot.set_trace("a", rhythm=_rhythm(1.0))
    plot.set_trace("b", rhythm=_rhythm(-1.0), color="blue")
    assert plot.traces == ["a", "b"]
    img = plot.screenshot().astype(int)
    blue = (img[..., 2] > 180) & (img[..., 0] < 80) & (img[..., 1] < 80)
    black = img[..., :3].max(axis=2) < 60
    assert blue.any() and black.any()  # "a" took the first palette colour, black


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"rhythm": np.zeros((11, 5000))}, r"\(12, 5000\)"),
        ({"rhythm": np.zeros(5000)}, r"\(12, 5000\)"),
        ({"median": np.zeros((12, 5000))}, r"\(12, 600\)"),
        ({"median": np.zeros(600)}, r"\(12, 600\)"),
        ({}, "rhythm|median"),
    ],
)
def test_wrong_shape_raises(plot: EcgPlot, kwargs: dict, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        plot.set_trace("bad", **kwargs)
    assert plot.traces == []


def test_median_mode_is_picked_when_only_medians(plot: EcgPlot) -> None:
    empty = plot.screenshot()
    plot.set_trace("decoded", median=_median(), color=GREEN)
    assert plot.mode == "median"
    img = plot.screenshot()
    assert _green_mask(img).any() and not np.array_equal(img, empty)


def test_rhythm_mode_skips_median_only_traces(plot: EcgPlot) -> None:
    plot.set_trace("original", rhythm=_rhythm(), median=_median())
    plot.set_trace("decoded", median=_median(0.5), color=GREEN)
    assert plot.mode == "rhythm"
    assert not _green_mask(plot.screenshot()).any()
    plot.mode = "median"
    assert _green_mask(plot.screenshot()).any()
    with pytest.raises(ValueError, match="mode"):
        plot.mode = "sideways"  # type: ignore[assignment]


def test_remove_and_clear(plot: EcgPlot) -> None:
    empty = plot.screenshot()
    plot.set_trace("a", rhythm=_rhythm(), color=GREEN)
    plot.set_trace("b", rhythm=_rhythm(0.5))
    plot.remove_trace("a")
    assert plot.traces == ["b"]
    assert not _green_mask(plot.screenshot()).any()
    with pytest.raises(KeyError):
        plot.remove_trace("a")
    plot.clear()
    assert plot.traces == []
    np.testing.assert_array_equal(plot.screenshot(), empty)


def test_removing_the_last_rhythm_switches_to_median(plot: EcgPlot) -> None:
    plot.set_trace("original", rhythm=_rhythm())
    plot.set_trace("decoded", median=_median())
    plot.remove_trace("original")
    assert plot.mode == "median"


def _canvas_widget(plot: EcgPlot) -> QWidget:
    (native,) = [w for w in plot.findChildren(QWidget) if w is not plot.legend]
    return native


def test_double_click_resets_zoom(plot: EcgPlot, qtbot) -> None:
    home = plot.screenshot()
    native = _canvas_widget(plot)
    centre = QPointF(native.width() / 2, native.height() / 2)
    wheel = QWheelEvent(
        centre, native.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(native, wheel)
    assert not np.array_equal(plot.screenshot(), home)
    qtbot.mouseDClick(native, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    np.testing.assert_array_equal(plot.screenshot(), home)


@pytest.mark.parametrize("mode", ["strip", "overlay"])
def test_median_layouts_for_a_wide_dock_and_the_legend_beside(qtbot, mode: str) -> None:
    """In a wide, short widget the strip of 12 beats fills the width; the legend sits beside
    the paper (not over it) and names every trace."""
    plot = EcgPlot()
    qtbot.addWidget(plot)
    plot.resize(1800, 220)
    plot.show()
    qtbot.waitExposed(plot)
    plot.mode = mode
    plot.set_trace("original", median=_median(), color="black")
    plot.set_trace("edited", median=_median(0.5), color=GREEN)
    assert plot.mode == mode
    assert "original" in plot.legend.text() and "edited" in plot.legend.text()
    canvas = _canvas_widget(plot)
    assert plot.legend.geometry().left() >= canvas.geometry().right()  # beside, not over the traces
    img = plot.screenshot()
    green_cols = np.flatnonzero(_green_mask(img).any(axis=0))
    if mode == "strip":  # the beats span most of the width: rhythm-strip proportions
        assert green_cols.max() - green_cols.min() > 0.8 * img.shape[1]
    else:
        assert green_cols.size


def test_traces_are_smoothed_on_a_graphics_card_and_crisp_on_a_software_renderer(plot: EcgPlot, qtbot) -> None:
    from napari_latent.widgets.plots.ecg_plot import SOFTWARE_RENDERERS

    plot.set_trace("original", median=_median(), color=GREEN)
    qtbot.waitUntil(lambda: plot.renderer is not None, timeout=5000)  # known from the first draw on screen
    software = any(name in plot.renderer.lower() for name in SOFTWARE_RENDERERS)
    assert plot.smooth is not software
    assert _green_mask(plot.screenshot()).any()
    rhythm, median = plot.trace_data("original")
    assert rhythm is None and median.shape == (len(LEADS), ECG_MEDIAN_SAMPLES)
