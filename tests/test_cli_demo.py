"""``napari-latent demo``: the window comes first and shows the demo cohort being generated.

Needs a display (run under xvfb-run): the demo opens a real napari window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from napari_latent.cohort.synthetic import generate as synthetic

EXPLORER_DOCKS = {"Fused latent space", "Distributions", "Latent sliders", "Decoded views and 12-lead ECG"}


@pytest.fixture
def gated_generation(monkeypatch, tmp_path):
    """The real demo generation into this test's own cache (``tmp_path``: nothing generated
    before), held after its first block of subjects until ``gate`` is set.

    ``reached`` is set once that first block is written and reported.
    """
    monkeypatch.setenv("NAPARI_LATENT_CACHE", str(tmp_path))
    real = synthetic.demo_cohort
    reached, gate = threading.Event(), threading.Event()

    def demo_cohort(n, *args, progress=None, **kwargs):
        def report(done, total):
            progress(done, total)
            if not reached.is_set():
                reached.set()
                gate.wait(60)

        return real(n, *args, progress=report, **kwargs)

    monkeypatch.setattr(synthetic, "demo_cohort", demo_cohort)
    yield reached, gate
    gate.set()  # never leave the worker waiting


def _cache() -> Path:
    return synthetic.demo_cache_dir()


def test_the_window_shows_the_generation_then_docks_the_explorer(make_napari_viewer_proxy, qtbot, gated_generation):
    from napari_latent.widgets.standalone.demo_start import start_demo

    reached, gate = gated_generation
    viewer = make_napari_viewer_proxy(show_welcome_screen=False)
    start = start_demo(viewer, 12)
    overlay = viewer.canvas.overlays["text"]
    assert overlay.visible and "demo cohort" in overlay.text  # at once, before any subject is written
    assert overlay.position == "middle_center"

    qtbot.waitUntil(reached.is_set, timeout=60000)
    # the first block is written, the rest waits: the window already shows how far it got
    qtbot.waitUntil(lambda: "of 12 subjects" in overlay.text, timeout=10000)
    assert start.generating and start.cohort is None
    assert start.progress_bar.desc == "Demo cohort" and start.progress_bar.total == 12
    assert 0 < start.progress_bar.n < 12
    assert f"{start.progress_bar.n} of 12 subjects" in overlay.text
    assert not EXPLORER_DOCKS & set(viewer.window.dock_widgets)
    assert not list(_cache().glob("demo-*-n12.zarr"))  # the store is not there yet

    gate.set()
    with qtbot.waitSignal(start.ready, timeout=120000) as ready:
        pass
    assert len(ready.args[0].cohort) == 12 and ready.args[0].model is not None
    assert EXPLORER_DOCKS <= set(viewer.window.dock_widgets)
    assert not overlay.visible and not start.generating


def test_closing_the_window_stops_the_generation_and_the_next_start_resumes(
    make_napari_viewer_proxy, qtbot, gated_generation, tmp_path, monkeypatch
):
    from napari_latent.widgets.standalone.demo_start import start_demo

    reached, gate = gated_generation  # generates into tmp_path
    viewer = make_napari_viewer_proxy(show_welcome_screen=False)
    start = start_demo(viewer, 12)
    qtbot.waitUntil(lambda: reached.is_set() and start.progress_bar.n > 0, timeout=60000)
    first = start.progress_bar.n
    viewer.close()
    with qtbot.waitSignal(start.stopped, timeout=30000) as stopped:
        gate.set()
    assert isinstance(stopped.args[0], InterruptedError)
    assert start.explorer is None and not list(tmp_path.glob("demo-*-n12.zarr"))
    assert list(tmp_path.glob(".demo-*-n12.zarr.partial"))  # what was written is kept

    seen: list[int] = []
    viewer = make_napari_viewer_proxy(show_welcome_screen=False)
    again = start_demo(viewer, 12, None, progress=lambda done, _total: seen.append(done))
    with qtbot.waitSignal(again.ready, timeout=120000):
        pass
    assert seen and seen[0] > 0  # resumed: the first report already counts the subjects kept
    assert seen[0] >= first
    assert len(again.cohort) == 12 and list(tmp_path.glob("demo-*-n12.zarr"))


def _command() -> list[str]:
    script = Path(sys.executable).with_name("napari-latent")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from napari_latent.cli import main; sys.exit(main())"]


@pytest.mark.slow  # a whole napari session in a new process: about 30 s here
def test_demo_command_opens_the_explorer_and_saves_the_screenshot(tmp_path):
    png = tmp_path / "demo.png"
    env = {**os.environ, "NAPARI_LATENT_CACHE": str(tmp_path / "cache")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(synthetic.__file__).parents[3]), env.get("PYTHONPATH", "")])
    argv = [*_command(), "demo", "-n", "12", "--screenshot", str(png)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list((tmp_path / "cache").glob("demo-*-n12.zarr"))
    from PIL import Image

    image = Image.open(png)
    assert image.size[0] >= 1200 and image.getextrema() != ((0, 0), (0, 0), (0, 0), (255, 255))
