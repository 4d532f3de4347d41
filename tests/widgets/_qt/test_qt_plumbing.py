"""Tests of the Qt plumbing: the Explorer binding, the worker helper and notify_error.

Need a display for Qt: run under xvfb-run.
"""

from __future__ import annotations

import threading

import pytest
from qtpy.QtWidgets import QWidget

from napari_latent.explorer import Explorer
from napari_latent.widgets._qt.binding import ExplorerBinding, WrongThreadError, bind
from napari_latent.widgets._qt.notify import error_text, notify_error
from napari_latent.widgets._qt.worker import start_worker


class _View(QWidget):
    def __init__(self, explorer: Explorer) -> None:
        super().__init__()
        self.seen: list[object] = []
        self.binding = bind(self, [(explorer.events.focus, self.on_focus)])

    def on_focus(self, index) -> None:
        self.seen.append(index)


def test_a_bound_view_follows_the_explorer_until_disconnected(qtbot, small_cohort) -> None:
    ex = Explorer(small_cohort)
    view = _View(ex)
    qtbot.addWidget(view)
    ex.focus(2)
    assert view.seen == [2]
    view.binding.disconnect()
    ex.focus(3)
    assert view.seen == [2]
    assert view.binding.connect() and not view.binding.connect()
    ex.focus(4)
    assert view.seen == [2, 4]


def test_changing_an_explorer_from_a_worker_thread_is_refused(qtbot, small_cohort) -> None:
    ex = Explorer(small_cohort)
    view = _View(ex)
    qtbot.addWidget(view)
    errors: list[BaseException] = []

    def mutate() -> None:
        try:
            ex.focus(1)
        except BaseException as exc:  # noqa: BLE001 (psygnal wraps the slot's error)
            errors.append(exc)

    thread = threading.Thread(target=mutate)
    thread.start()
    thread.join()
    assert errors
    chain, exc = [], errors[0]
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__
    assert any(isinstance(e, WrongThreadError) for e in chain)
    assert view.seen == []


def test_a_binding_holds_its_view_weakly(small_cohort) -> None:
    import gc

    ex = Explorer(small_cohort)

    class Plain:
        def __init__(self) -> None:
            self.seen = []

        def on_focus(self, index) -> None:
            self.seen.append(index)

    plain = Plain()
    binding = ExplorerBinding([(ex.events.focus, plain.on_focus)])
    binding.connect()
    del plain
    gc.collect()
    ex.focus(1)  # the slot is gone: nothing is called, nothing fails


def test_worker_results_and_progress_arrive_on_the_qt_thread(qtbot) -> None:
    threads: list[threading.Thread] = []
    steps: list[tuple[int, int]] = []
    stop = threading.Event()
    stop.set()  # cleared by start_worker

    def work(progress, should_stop):
        for i in range(3):
            progress(i + 1, 3)
        return should_stop()

    results: list[object] = []
    worker = start_worker(
        work, progress_kw="progress", stop=stop, desc="test",
        progressed=lambda d, n: (steps.append((d, n)), threads.append(threading.current_thread())),
        returned=lambda r: (results.append(r), threads.append(threading.current_thread())),
    )  # fmt: skip
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    qtbot.waitUntil(lambda: len(steps) == 3, timeout=5000)
    assert results == [False]
    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert all(t is threading.main_thread() for t in threads)
    assert worker.pbar is not None


def test_worker_errors_become_notifications(qtbot, monkeypatch) -> None:
    from napari.utils import notifications

    shown: list[str] = []
    monkeypatch.setattr(notifications, "show_error", shown.append)

    def fail():
        raise ValueError("bad value")

    worker = start_worker(fail, error_prefix="Doing it failed")
    with qtbot.waitSignal(worker.finished, timeout=5000):
        pass
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == ["Doing it failed: ValueError: bad value"]


@pytest.mark.parametrize(
    ("error", "prefix", "text"),
    [
        ("plain message", None, "plain message"),
        (ValueError("x"), "Load", "Load: ValueError: x"),
        (FileNotFoundError("no file"), None, "no file"),
    ],
)
def test_error_text(error, prefix, text, monkeypatch) -> None:
    from napari.utils import notifications

    shown: list[str] = []
    monkeypatch.setattr(notifications, "show_error", shown.append)
    assert error_text(error, prefix) == text
    assert notify_error(error, prefix) == text and shown == [text]
