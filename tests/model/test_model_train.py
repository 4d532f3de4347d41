"""Training: it learns, reports, stops on request, resumes, early-stops, and never clobbers a checkpoint."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

from napari_latent.cohort import Cohort
from napari_latent.model import CheckpointExistsError, embed, evaluate_model, load_model, read_config, train

torch.set_num_threads(1)

TINY = {
    "latent_dim": 8,
    "ecg_channels": [8, 16],
    "ecg_decoder_channels": [16],
    "mri_channels": [8, 16],
    "mri_decoder_channels": [16, 8],
}


def structured_cohort(n: int = 64, seed: int = 0) -> Cohort:
    """Two shared factors drive both modalities: an R-like wave (ECG) and a pulsing disk (cine)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    t = np.arange(600)
    lead_gain = np.linspace(-1, 1, 12)[None, :, None]
    center = (300 + 60 * b)[:, None, None]
    ecg = lead_gain * (1 + 0.5 * a)[:, None, None] * np.exp(-0.5 * ((t - center) / 12.0) ** 2)
    ecg += rng.normal(0, 0.01, ecg.shape)
    yy, xx = np.mgrid[:96, :96]
    r = np.hypot(yy - 48, xx - 48)[None, None]
    frames = np.arange(50)[None, :, None, None]
    radius = (22 + 10 * a)[:, None, None, None] * (
        1 - 0.15 * (1 + b)[:, None, None, None] * np.sin(np.pi * frames / 50)
    )
    mri = 0.2 + 0.6 / (1 + np.exp((r - radius) / 1.5))
    mri += rng.normal(0, 0.02, mri.shape)
    table = pd.DataFrame({"subject_id": [f"T{i:03d}" for i in range(n)], "a": a, "b": b})
    return Cohort.from_arrays(table, ecg_median=ecg.astype(np.float32), mri=np.clip(mri, 0, 1).astype(np.float16))


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return structured_cohort(48)


def test_a_few_hundred_steps_learn_the_structure(cohort):
    config = {
        **TINY,
        "epochs": 40,
        "batch_size": 8,
        "lr": 3e-3,
        "patience": 0,
        "warmup_steps": 20,
        "kl_warmup_epochs": 5,
        "beta": 1e-4,
        "seed": 1,
    }
    events = []
    result = train(cohort, config, callbacks=events.append)
    assert result.step >= 150 and result.status == "completed"
    first, last = result.history[0], result.history[-1]
    assert last["val_mri_recon"] < 0.6 * first["val_mri_recon"], (first, last)
    assert last["val_ecg_recon"] < 0.5 * first["val_ecg_recon"], (first, last)
    metrics = evaluate_model(result.model, cohort, baseline=False)
    template = metrics["mean_template"]  # predicting the training mean for everyone
    assert metrics["reconstruction"]["mri"]["mse"] < 0.6 * template["mri"]["mse"]
    assert metrics["reconstruction"]["ecg"]["mse"] < 0.5 * template["ecg"]["mse"]
    assert metrics["translation"]["ecg->mri"]["mse"] < 0.8 * template["mri"]["mse"]
    assert metrics["translation"]["mri->ecg"]["mse"] < 0.8 * template["ecg"]["mse"]
    z = embed(cohort, result.model)
    assert z["fused"].shape == (len(cohort), 8) and z["ecg"].shape == (len(cohort), 8)
    steps = [e for e in events if e["event"] == "step"]
    assert steps and {"loss", "lr", "progress", "eta_s", "epoch"} <= set(steps[-1])
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "end"


def test_cancellation_leaves_a_valid_checkpoint(cohort, tmp_path):
    stop = threading.Event()

    def on_event(event):
        if event["event"] == "step" and event["step"] >= 3:
            stop.set()

    out = tmp_path / "ck"
    result = train(
        cohort, {**TINY, "epochs": 50, "batch_size": 8, "log_every": 1}, out, callbacks=on_event, should_stop=stop
    )
    assert result.status == "cancelled" and result.step == 3
    assert read_config(out)["training"]["status"] == "cancelled"
    model = load_model(out, cohort)
    assert np.isfinite(model.decode_numpy(np.zeros(8))["mri"]).all()


def test_callback_returning_false_cancels(cohort):
    result = train(
        cohort,
        {**TINY, "epochs": 50, "batch_size": 8, "log_every": 1},
        callbacks=lambda e: not (e["event"] == "step" and e["step"] >= 2),
    )
    assert result.status == "cancelled" and result.step == 2 and result.checkpoint is None


def test_resume_continues_the_step_count(cohort, tmp_path):
    out = tmp_path / "ck"
    first = train(cohort, {**TINY, "epochs": 2, "batch_size": 8, "seed": 3}, out)
    per_epoch = first.step // 2
    assert first.epoch == 2 and per_epoch > 0
    with pytest.raises(CheckpointExistsError):
        train(cohort, {**TINY, "epochs": 2}, out)
    events = []
    second = train(cohort, {"epochs": 3}, out, resume=True, callbacks=events.append)
    assert events[0]["event"] == "start" and events[0]["resumed"] and events[0]["step"] == first.step
    assert second.step == first.step + per_epoch and second.epoch == 3
    assert [h["epoch"] for h in second.history] == [1, 2, 3]
    saved = read_config(out)
    assert saved["training"]["state"]["step"] == second.step
    assert saved["data"]["val_indices"] == first.val_indices.tolist()


def test_early_stopping(cohort):
    result = train(
        cohort, {**TINY, "epochs": 20, "batch_size": 16, "lr": 0.0, "min_lr": 0.0, "patience": 2, "kl_warmup_epochs": 0}
    )
    assert result.status == "early_stopped" and result.epoch == 3


def test_split_is_deterministic_and_stored(cohort, tmp_path):
    a = train(cohort, {**TINY, "epochs": 1, "max_steps": 1, "seed": 5}, tmp_path / "a")
    b = train(cohort, {**TINY, "epochs": 1, "max_steps": 1, "seed": 5})
    assert a.status == "max_steps"
    np.testing.assert_array_equal(a.val_indices, b.val_indices)
    assert not set(a.val_indices) & set(a.train_indices)
    assert read_config(tmp_path / "a")["data"]["val_indices"] == a.val_indices.tolist()
    assert read_config(tmp_path / "a")["data"]["cohort_fingerprint"] == cohort.fingerprint()


def test_plateau_schedule_lowers_the_learning_rate(cohort):
    config = {
        **TINY,
        "epochs": 3,
        "batch_size": 16,
        "scheduler": "plateau",
        "plateau_patience": 1,
        "min_delta": 1e9,
        "patience": 0,
    }
    result = train(cohort, config)
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(5e-4)
