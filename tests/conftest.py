"""Shared fixtures: a small random in-memory cohort and an isolated demo cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_latent.cohort import Cohort


def make_cohort(n: int = 6, *, seed: int = 0, rhythm: bool = True, labels: bool = True) -> Cohort:
    """A small in-memory cohort of random arrays with the schema's shapes."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "subject_id": [f"S{i:03d}" for i in range(n)],
            "age": rng.uniform(45, 80, n).round(1),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    return Cohort.from_arrays(
        table,
        ecg_median=rng.normal(0, 0.3, (n, 12, 600)).astype(np.float32),
        mri=rng.uniform(0, 1, (n, 50, 96, 96)).astype(np.float16),
        ecg_rhythm=rng.normal(0, 0.3, (n, 12, 5000)).astype(np.float32) if rhythm else None,
        labels=rng.integers(0, 6, (n, 50, 96, 96), dtype=np.uint8) if labels else None,
    )


@pytest.fixture
def small_cohort() -> Cohort:
    return make_cohort()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep generated demo cohorts out of the user's cache; share them within a test session."""
    monkeypatch.setenv("NAPARI_LATENT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Cohort:
    """A 24-subject synthetic demo cohort in a store (generated once per test session)."""
    from napari_latent.cohort.synthetic import generate_cohort

    return generate_cohort(24, seed=3, path=tmp_path_factory.mktemp("store") / "demo24.zarr", workers=1)


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained, very small cross-modal VAE (latent_dim 8): fast to run, real interface."""
    import torch

    from napari_latent.model import NETWORK_SIZES, build_model

    torch.manual_seed(0)
    return build_model({"latent_dim": 8, **NETWORK_SIZES["tiny"]}).eval()


@pytest.fixture
def explorer(demo_store, tiny_model):
    """A fresh Explorer over the demo store with the tiny model, embedded."""
    from napari_latent.explorer import Explorer

    return Explorer.open(demo_store, tiny_model)
