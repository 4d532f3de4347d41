"""Every architecture: shapes, units and the shared encode/decode/translate/sample interface."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_latent.model import (
    ARCHITECTURES,
    NETWORK_SIZES,
    CrossModalVAE,
    Posterior,
    build_model,
    model_config,
    resolve_config,
)

torch.set_num_threads(1)

TINY = {"latent_dim": 8, **NETWORK_SIZES["tiny"]}
MULTI = ["cross_modal_vae", "mvae", "mopoe"]
UNI = [("unimodal_vae", "ecg"), ("unimodal_vae", "mri"), ("unimodal_ae", "mri")]


def _batch(b: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"ecg": torch.randn(b, 12, 600, generator=g) * 0.3, "mri": torch.rand(b, 50, 96, 96, generator=g).half()}


def test_registry_lists_variants():
    assert {"cross_modal_vae", "mvae", "mopoe", "unimodal_vae", "unimodal_ae"} <= set(ARCHITECTURES)
    assert isinstance(build_model(TINY), CrossModalVAE)
    with pytest.raises(ValueError, match="unknown architecture 'nope'"):
        build_model({"architecture": "nope"})
    with pytest.raises(ValueError, match="unknown model config keys"):
        build_model({"latent_dims": 3})


@pytest.mark.parametrize("arch", MULTI)
def test_multimodal_interface(arch):
    model = build_model({**TINY, "architecture": arch})
    batch = _batch()
    post = model.encode(batch)
    assert set(post) == {"ecg", "mri", "fused"}
    for p in post.values():
        assert isinstance(p, Posterior) and p.mu.shape == (3, 8) and p.logvar.shape == (3, 8)
    only_ecg = model.encode({"ecg_median": batch["ecg"]})  # cohort array names work too
    assert set(only_ecg) == {"ecg", "fused"}
    torch.testing.assert_close(
        only_ecg["fused"].mu, only_ecg["ecg"].mu if arch == "cross_modal_vae" else only_ecg["fused"].mu
    )

    out = model.decode(post["fused"].mu)
    assert out["ecg"].shape == (3, 12, 600) and out["mri"].shape == (3, 50, 96, 96)
    assert out["mri"].min() >= 0 and out["mri"].max() <= 1
    assert set(model.decode(post["fused"].mu, ("mri",))) == {"mri"}
    assert model.translate("ecg", "mri", batch["ecg"]).shape == (3, 50, 96, 96)
    assert model.translate("mri", "ecg", batch["mri"]).shape == (3, 12, 600)
    assert model.sample(2)["mri"].shape == (2, 50, 96, 96)
    assert set(model.reconstruct(batch)) == {"ecg", "mri"}

    losses = model(batch)
    assert torch.isfinite(losses["loss"]) and {"ecg_recon", "mri_recon", "kl"} <= set(losses)
    losses["loss"].backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, f"parameters outside the graph break DDP: {unused}"


@pytest.mark.parametrize("arch,modality", UNI)
def test_unimodal_interface(arch, modality):
    model = build_model({**TINY, "architecture": arch, "modality": modality})
    assert model.modalities == (modality,)
    batch = _batch()
    post = model.encode(batch)  # the other modality in the batch is ignored
    assert set(post) == {modality, "fused"}
    out = model.decode(post["fused"].mu)
    assert set(out) == {modality}
    other = "mri" if modality == "ecg" else "ecg"
    with pytest.raises(ValueError, match="cannot translate"):
        model.translate(modality, other, batch[modality])
    with pytest.raises(ValueError, match="has no modality"):
        model.decode(post["fused"].mu, (other,))
    model(batch)["loss"].backward()


def test_numpy_helpers_keep_batch_axes():
    model = build_model(TINY).eval()
    rng = np.random.default_rng(0)
    ecg = rng.normal(0, 0.3, (5, 12, 600)).astype(np.float32)
    mri = rng.uniform(0, 1, (5, 50, 96, 96)).astype(np.float16)
    z = model.encode_numpy({"ecg": ecg, "mri": mri}, batch_size=2, logvar=True)
    assert z["fused"].shape == (5, 8) and z["ecg_logvar"].shape == (5, 8) and z["fused"].dtype == np.float32
    one = model.decode_numpy(z["fused"][0])
    assert one["ecg"].shape == (12, 600) and one["mri"].shape == (50, 96, 96)
    many = model.decode_numpy(z["fused"], batch_size=2)
    assert many["mri"].shape == (5, 50, 96, 96)
    np.testing.assert_allclose(many["ecg"][0], one["ecg"], atol=1e-5)
    assert model.translate_numpy("ecg", "mri", ecg[0]).shape == (50, 96, 96)
    assert model.translate_numpy("ecg_median", "mri", ecg).shape == (5, 50, 96, 96)
    with pytest.raises(ValueError, match=r"expected \(8,\)"):
        model.decode_numpy(np.zeros(7))


def test_wrong_input_shape_is_explained():
    model = build_model(TINY)
    with pytest.raises(ValueError, match=r"ecg batch has shape \(2, 12, 500\)"):
        model.encode({"ecg": torch.zeros(2, 12, 500)})


def test_normalisation_round_trip_and_decode_units():
    model = build_model(TINY)
    mean = np.linspace(-1, 1, 12 * 600, dtype=np.float32).reshape(12, 600)
    model.set_normalization(
        {
            "ecg": {"mean": mean, "scale": np.full((12, 1), 0.5, np.float32)},
            "mri": {"mean": np.full((50, 96, 96), 0.3, np.float32), "scale": np.full((1, 1, 1), 0.2, np.float32)},
        }
    )
    x = torch.randn(2, 12, 600)
    torch.testing.assert_close(model.normalizers["ecg"].inverse(model.normalizers["ecg"](x)), x)
    # a decoder that outputs zeros in normalised units decodes to the mean template
    for dec in model.decoders.values():
        for p in dec.parameters():
            torch.nn.init.zeros_(p)
    out = model.decode_numpy(np.zeros(8))
    np.testing.assert_allclose(out["ecg"], mean, atol=1e-6)
    np.testing.assert_allclose(out["mri"], 0.3, atol=1e-6)


def test_config_resolution():
    model_cfg, train_cfg = resolve_config({"latent_dim": 16, "epochs": 3, "beta": 0.1})
    assert model_cfg["latent_dim"] == 16 and model_cfg["beta"] == 0.1 and train_cfg.epochs == 3
    nested = resolve_config({"model": {"latent_dim": 16, "beta": 0.1}, "train": {"epochs": 3}})
    assert nested[0] == model_cfg and nested[1].epochs == 3
    with pytest.raises(ValueError, match="unknown config key 'epoch'"):
        resolve_config({"epoch": 3})
    with pytest.raises(ValueError, match="needs modality"):
        model_config({"architecture": "unimodal_vae"})


def test_config_size_preset_and_misplaced_keys():
    model_cfg, train_cfg = resolve_config({"size": "tiny", "epochs": 1, "latent_dim": 8})
    assert model_cfg["ecg_channels"] == [8, 8] and model_cfg["latent_dim"] == 8 and train_cfg.epochs == 1
    explicit = resolve_config({"model": {"size": "tiny", "groups": 2}})[0]
    assert explicit["groups"] == 2 and explicit["mri_channels"] == [8, 8]
    with pytest.raises(ValueError, match="'epochs' \\(a training key\\) under 'model'"):
        resolve_config({"model": {"epochs": 1}})
    with pytest.raises(ValueError, match="'latent_dim' \\(a model key\\) under 'train'"):
        resolve_config({"train": {"latent_dim": 8}})
    with pytest.raises(ValueError, match="unknown network size 'huge'"):
        resolve_config({"size": "huge"})
