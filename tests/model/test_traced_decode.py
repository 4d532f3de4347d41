"""Decoding through a trace gives what eager decoding gives, and falls back when it cannot trace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_latent.model.checkpoint import load_demo_model
from napari_latent.model.traced_decode import decode_traced


@pytest.fixture(scope="module")
def model():
    return load_demo_model()


@pytest.fixture(scope="module")
def latents(model) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((4, model.latent_dim)).astype(np.float32)


def test_one_latent_and_a_batch_decode_as_eager_decoding_does(model, latents) -> None:
    for z in (latents[0], latents):
        traced, eager = decode_traced(model, z), model.decode_numpy(z)
        assert traced.keys() == eager.keys()
        for m in eager:
            assert traced[m].shape == eager[m].shape and traced[m].dtype == np.float32
            np.testing.assert_allclose(traced[m], eager[m], atol=1e-5)


def test_weights_changed_in_place_are_decoded_and_the_state_dict_is_untouched(latents) -> None:
    model = load_demo_model()
    keys = list(model.state_dict())
    before = decode_traced(model, latents[0])["ecg"]
    with torch.no_grad():
        next(p for name, p in model.named_parameters() if name.startswith("decoders.ecg")).mul_(0.5)
    after = decode_traced(model, latents[0])["ecg"]
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, model.decode_numpy(latents[0])["ecg"], atol=1e-5)
    assert list(model.state_dict()) == keys


def test_a_model_that_cannot_be_traced_decodes_eagerly(monkeypatch, latents) -> None:
    model = load_demo_model()

    def refuse(*_args, **_kwargs):
        raise RuntimeError("data-dependent control flow")

    monkeypatch.setattr(torch.jit, "trace", refuse)
    out = decode_traced(model, latents[1])
    np.testing.assert_allclose(out["mri"], model.decode_numpy(latents[1])["mri"])


def test_a_latent_of_the_wrong_size_is_refused(model) -> None:
    with pytest.raises(ValueError, match="expected"):
        decode_traced(model, np.zeros(model.latent_dim + 1, np.float32))
