"""The demo cohort as a whole: plausible epidemiology, coupling, determinism, parallel stores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_latent.cohort import open_cohort
from napari_latent.cohort.synthetic import demo_cohort, generate_cohort, sample_factors


@pytest.fixture(scope="module")
def factors() -> pd.DataFrame:
    return pd.DataFrame([sample_factors(0, i).as_row() for i in range(4000)])


def test_prevalences_are_plausible(factors):
    assert 0.48 < (factors.sex == "F").mean() < 0.56
    assert 0.2 < factors.hypertension.mean() < 0.45
    assert 0.02 < factors.prior_mi.mean() < 0.09
    assert 0.005 < factors.lbbb.mean() < 0.04
    assert 0.04 < factors.atrial_enlargement.mean() < 0.2
    assert 45 <= factors.age.min() and factors.age.max() <= 82


def test_conditions_shift_the_shared_factors(factors):
    def diff(col, by):
        return factors.loc[factors[by], col].mean() - factors.loc[~factors[by], col].mean()

    assert diff("wall_thickness", "hypertension") > 1.0  # mm
    assert diff("lv_mass", "hypertension") > 10  # g
    assert diff("ef", "prior_mi") < -0.1
    assert diff("qrs_duration", "lbbb") > 40  # ms
    assert diff("atrial_scale", "atrial_enlargement") > 0.25
    male = factors.sex == "M"
    assert factors.lvedv[male].mean() - factors.lvedv[~male].mean() > 20  # mL
    assert np.corrcoef(factors.age, factors.hypertension)[0, 1] > 0.1


def test_same_seed_same_bytes_other_seed_other_data():
    a, b = generate_cohort(3, seed=5), generate_cohort(3, seed=5)
    for name in a.array_names:
        assert a.read(name, slice(None)).tobytes() == b.read(name, slice(None)).tobytes()
    pd.testing.assert_frame_equal(a.subjects, b.subjects)
    c = generate_cohort(3, seed=6)
    assert a.read("mri", 0).tobytes() != c.read("mri", 0).tobytes()


def test_parallel_store_equals_serial_in_memory(tmp_path):
    memory = generate_cohort(6, seed=1)
    stored = generate_cohort(6, seed=1, path=tmp_path / "p.zarr", workers=2)
    assert stored.fingerprint() == memory.fingerprint()
    assert stored.columns["lvedv"].unit == "mL"
    assert open_cohort(stored.path).attrs["source"]["seed"] == 1


def test_cancelled_generation_leaves_nothing(tmp_path):
    calls = []
    with pytest.raises(InterruptedError):
        generate_cohort(8, path=tmp_path / "c.zarr", workers=1, should_stop=lambda: bool(calls.append(1)) or len(calls) > 1)
    assert list(tmp_path.iterdir()) == []


def test_demo_cohort_is_cached(tmp_path):
    progress = []
    first = demo_cohort(4, cache_dir=tmp_path, workers=1, progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (4, 4)
    again = demo_cohort(4, cache_dir=tmp_path, progress=lambda d, t: pytest.fail("regenerated"))
    assert again.path == first.path and again.fingerprint() == first.fingerprint()


def test_a_script_without_a_main_guard_still_generates_with_workers(tmp_path):
    """Spawned workers re-run a script that has no ``if __name__ == "__main__":``; generation
    must then finish in the calling process (with a warning) instead of failing."""
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"
    store = tmp_path / "c.zarr"
    script.write_text(
        "from napari_latent.cohort.synthetic import generate_cohort\n"
        f"cohort = generate_cohort(6, path={str(store)!r}, workers=2)\n"
        "print('subjects', len(cohort))\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "subjects 6" in run.stdout
    assert "if __name__" in run.stderr  # the warning says why
    assert len(open_cohort(store)) == 6
