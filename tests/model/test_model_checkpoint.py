"""Checkpoints: exact round-trip, atomic and non-overwriting saves, clear refusals, no pickle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import napari_latent
from napari_latent.cohort import LEADS
from napari_latent.model import (
    NETWORK_SIZES,
    CheckpointError,
    CheckpointExistsError,
    SchemaMismatchError,
    build_model,
    load_demo_model,
    load_model,
    read_config,
    save_checkpoint,
)
from napari_latent.model import checkpoint as ckpt_module

torch.set_num_threads(1)

TINY = {"latent_dim": 8, **NETWORK_SIZES["tiny"]}


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = build_model(TINY).eval()
    rng = np.random.default_rng(1)
    m.set_normalization(
        {
            "ecg": {"mean": rng.normal(0, 0.1, (12, 600)), "scale": rng.uniform(0.1, 0.3, (12, 1))},
            "mri": {"mean": rng.uniform(0, 1, (50, 96, 96)), "scale": np.array([0.2])},
        }
    )
    return m


def _outputs(m, z):
    return m.decode_numpy(z)


def test_round_trip_gives_identical_outputs(model, tmp_path, small_cohort):
    path = save_checkpoint(model, tmp_path / "ck", metadata={"data": {"val_indices": [1, 2]}})
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "weights.safetensors"]
    loaded = load_model(path, small_cohort)
    z = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    a, b = _outputs(model, z), _outputs(loaded, z)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    batch = {"ecg": small_cohort.read("ecg_median", [0, 1]), "mri": small_cohort.read("mri", [0, 1])}
    np.testing.assert_array_equal(model.encode_numpy(batch)["fused"], loaded.encode_numpy(batch)["fused"])
    assert loaded.fingerprint() == model.fingerprint()
    assert loaded.info["data"]["val_indices"] == [1, 2]

    config = read_config(path)
    assert config["model"]["architecture"] == "cross_modal_vae"
    assert config["versions"]["napari_latent"] == napari_latent.__version__
    assert config["versions"]["torch"] == torch.__version__
    assert config["input_schema"]["ecg_median"]["shape"] == [12, 600]
    assert config["input_schema"]["ecg_median"]["sampling_rate_hz"] == 500
    assert config["input_schema"]["ecg_median"]["unit"] == "mV"
    assert config["input_schema"]["mri"]["shape"] == [50, 96, 96]
    assert len(config["normalization"]["ecg"]["scale"]) == 12


def test_half_precision_storage_is_smaller_and_close(model, tmp_path):
    full = save_checkpoint(model, tmp_path / "f32")
    half = save_checkpoint(model, tmp_path / "f16", dtype="float16")
    assert (half / "weights.safetensors").stat().st_size < 0.6 * (full / "weights.safetensors").stat().st_size
    z = np.zeros((1, 8), np.float32)
    np.testing.assert_allclose(_outputs(load_model(half), z)["mri"], _outputs(model, z)["mri"], atol=2e-2)
    # loading twice is deterministic
    np.testing.assert_array_equal(_outputs(load_model(half), z)["ecg"], _outputs(load_model(half), z)["ecg"])


def test_existing_checkpoint_is_not_overwritten(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ck")
    before = (path / "weights.safetensors").read_bytes()
    with pytest.raises(CheckpointExistsError, match="overwrite=True"):
        save_checkpoint(build_model(TINY), path)
    assert (path / "weights.safetensors").read_bytes() == before
    save_checkpoint(build_model(TINY), path, overwrite=True)
    assert (path / "weights.safetensors").read_bytes() != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary directories left behind"


def test_schema_mismatch_names_what_differs(model, tmp_path, small_cohort):
    path = save_checkpoint(model, tmp_path / "ck")
    config = json.loads((path / "config.json").read_text())
    config["input_schema"]["ecg_median"]["shape"] = [12, 500]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(SchemaMismatchError) as err:
        load_model(path, small_cohort)
    assert str(path) in str(err.value)
    assert "expects ecg_median (12, 500), this napari-latent has (12, 600)" in str(err.value)


def test_schema_mismatch_with_cohort(model, tmp_path, small_cohort):
    path = save_checkpoint(model, tmp_path / "ck")
    small_cohort.attrs["ecg_fs"] = 250
    small_cohort.attrs["leads"] = ["II", "I", *LEADS[2:]]
    with pytest.raises(SchemaMismatchError) as err:
        ckpt_module.check_schema(read_config(path), small_cohort, path)
    msg = str(err.value)
    assert str(path) in msg and "sampling rate (Hz) 500, cohort has 250" in msg and "leads" in msg


def test_schema_mismatch_with_cohort_shape(model, tmp_path, small_cohort):
    path = save_checkpoint(model, tmp_path / "ck")

    class Narrow:  # a cohort-like object whose ECG median beat has 500 samples
        attrs = {}
        path = None
        ecg_median = np.zeros((3, 12, 500), np.float32)
        mri = small_cohort.mri

    with pytest.raises(SchemaMismatchError, match=r"expects ecg_median \(12, 600\), cohort has \(12, 500\)"):
        load_model(path, Narrow())


def test_corrupt_weights_are_refused_clearly(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ck")
    weights = path / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # flip bits inside tensor data: only the checksum can tell
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors does not match the checksum"):
        load_model(path)
    weights.write_bytes(b"\x00" * 20)  # garbage header
    with pytest.raises(CheckpointError, match=r"cannot read weights\.safetensors.*corrupt or truncated") as err:
        load_model(path, verify=False)
    assert str(path) in str(err.value)
    weights.unlink()
    with pytest.raises(CheckpointError, match=r"weights\.safetensors is missing"):
        load_model(path)


def test_missing_or_broken_config(model, tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "nothing")
    path = save_checkpoint(model, tmp_path / "ck")
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"cannot read config\.json"):
        load_model(path)
    (path / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"config\.json is missing"):
        load_model(path)


def test_weights_that_do_not_fit_the_config(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ck")
    config = json.loads((path / "config.json").read_text())
    config["model"]["latent_dim"] = 16
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"does not fit config\.json: tensor .* has shape"):
        load_model(path, verify=False)


def test_no_pickle_anywhere(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ck", state={"model.x": torch.zeros(2)})
    assert {p.suffix for p in path.iterdir()} <= {".safetensors", ".json"}
    src = Path(ckpt_module.__file__).parent
    for file in src.glob("*.py"):
        text = file.read_text()
        assert not re.search(r"\btorch\.load\(|\bimport pickle\b|\bpickle\.load|\btorch\.save\(", text), file.name


def test_demo_model_missing_or_loadable():
    try:
        model = load_demo_model()
    except CheckpointError as err:
        assert "has not been trained yet" in str(err) and "train_demo_model.py" in str(err)
    else:
        out = model.decode_numpy(np.zeros(model.latent_dim, np.float32))
        assert out["mri"].shape == (50, 96, 96) and out["ecg"].shape == (12, 600)
