"""Evaluation metrics and baselines on known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_latent.model import build_model, evaluate_model
from napari_latent.model.evaluate import (
    PLSBaseline,
    StreamingPCA,
    ecg_metrics,
    pearson_per_lead,
    probe_r2,
    retrieval,
    ssim,
)

torch.set_num_threads(1)


def test_ssim_known_values():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 1, (2, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(ssim(img, img), 1.0, atol=1e-5)
    assert ssim(img, img).shape == (2, 3)
    noisy = np.clip(img + rng.normal(0, 0.2, img.shape), 0, 1)
    worse = np.clip(img + rng.normal(0, 0.5, img.shape), 0, 1)
    assert (ssim(worse, img) < ssim(noisy, img)).all() and (ssim(noisy, img) < 0.95).all()
    # constant images: luminance term only; 0.5 vs 0.5 + d
    a, b = np.full((1, 32, 32), 0.5, np.float32), np.full((1, 32, 32), 0.6, np.float32)
    expected = (2 * 0.5 * 0.6 + 1e-4) / (0.25 + 0.36 + 1e-4)
    np.testing.assert_allclose(ssim(a, b), expected, rtol=5e-4)  # float32 statistics


def test_pearson_and_ecg_metrics():
    t = np.linspace(0, 6, 600)
    true = np.stack([np.sin(t + k) for k in range(12)])[None].astype(np.float32)
    r = pearson_per_lead(2 * true + 1, true)
    np.testing.assert_allclose(r, 1.0, atol=1e-6)
    np.testing.assert_allclose(pearson_per_lead(-true, true), -1.0, atol=1e-6)
    m = ecg_metrics(true + 0.1, true)
    np.testing.assert_allclose(m["mse"], 0.01, rtol=1e-4)
    np.testing.assert_allclose(m["log_cosh"], np.log(np.cosh(0.1)), rtol=1e-3)


def test_retrieval():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 8))
    assert retrieval(z, z) == {"top1": 1.0, "top5": 1.0, "median_rank": 1.0}
    shuffled = retrieval(z, rng.permutation(z))
    assert shuffled["top1"] < 0.2


def test_probe_r2():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 6))
    r2 = probe_r2(z, {"linear": z @ np.arange(6.0), "noise": rng.normal(size=200), "flat": np.ones(200)})
    assert r2["linear"] > 0.99 and r2["noise"] < 0.1 and "flat" not in r2


def test_streaming_pca_matches_exact_pca():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(120, 5)) @ rng.normal(size=(5, 300)) + 0.01 * rng.normal(size=(120, 300))).astype(np.float32)
    pca = StreamingPCA(5, seed=0).fit(lambda: (x[i : i + 32] for i in range(0, len(x), 32)))
    recon = pca.inverse_transform(pca.transform(x))
    assert np.abs(recon - x).max() < 0.1
    exact = np.linalg.svd(x - x.mean(0), compute_uv=False)[:5] ** 2 / (len(x) - 1)
    np.testing.assert_allclose(pca.explained_variance_, exact, rtol=1e-3)


def test_pls_baseline_and_evaluate_report(small_cohort):
    model = build_model(
        {
            "latent_dim": 4,
            "ecg_channels": [4],
            "ecg_decoder_channels": [4],
            "mri_channels": [4],
            "mri_decoder_channels": [4],
            "groups": 2,
        }
    ).eval()
    idx = np.arange(len(small_cohort))
    pls = PLSBaseline("ecg", "mri", n_input=3, n_output=3, candidates=(1, 2)).fit(small_cohort, idx)
    pred = pls.predict(small_cohort.read("ecg_median", [0, 1]))
    assert pred.shape == (2, 50, 96, 96) and pred.min() >= 0 and pred.max() <= 1

    report = evaluate_model(model, small_cohort, [0, 1, 2], train_indices=[3, 4, 5], batch_size=2)
    assert report["n_test"] == 3 and report["n_train"] == 3
    for key in ("reconstruction", "self", "translation", "ceiling", "mean_template", "retrieval"):
        assert key in report, key
    assert set(report["translation"]) == {"ecg->mri", "mri->ecg"}
    assert len(report["reconstruction"]["ecg"]["pearson_r_per_lead"]) == 12
    assert len(report["reconstruction"]["mri"]["ssim_per_frame"]) == 50
    assert report["retrieval"]["chance_top1"] == pytest.approx(1 / 3)
    # the PLS baseline needs >= 8 training subjects; with fewer it is skipped, not faked
    assert "baseline_pls" not in report
