"""The R-peak detector against wfdb's XQRS on strips with known beats (scripts/compare_r_peaks.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("wfdb")

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_r_peaks.py"


def _compare():
    spec = importlib.util.spec_from_file_location("compare_r_peaks", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ours_finds_every_true_beat_and_is_no_worse_than_xqrs() -> None:
    compare = _compare()
    results = compare.evaluate(compare.demo_strips(12, seed=1))
    ours, xqrs = results["napari-latent (12 leads)"], results["wfdb XQRS (lead II)"]
    assert ours["beats"] > 100
    assert ours["se"] == 1.0 and ours["ppv"] == 1.0
    assert ours["se"] >= xqrs["se"] and ours["ppv"] >= xqrs["ppv"]
    assert ours["timing_ms"] <= 10 and ours["hr_err_max"] < 1.0


def test_the_scoring_counts_misses_and_false_detections() -> None:
    import numpy as np

    compare = _compare()
    reference = np.array([1.0, 2.0, 3.0, 4.0])
    fs = 500
    detected = (np.array([1.0, 2.01, 3.5, 4.0]) * fs).astype(int)  # 3.0 missed, 3.5 false
    s = compare.score(detected, reference, fs, 5 * fs)
    assert (s["tp"], s["fn"], s["fp"]) == (3, 1, 1)
