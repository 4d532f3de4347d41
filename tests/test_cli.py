"""The ``napari-latent`` command as a user types it: help, train settings, refusals before work."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from napari_latent.cli import ARCHITECTURE_CHOICES, build_parser, main


def test_top_level_help_is_plain_text_and_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "napari_latent.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "``" not in out and ":class:" not in out
    for command in ("demo", "generate", "train", "embed", "import", "example-files", "bench"):
        assert f"\n    {command}" in out, command


def test_every_argument_has_help_text():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.dest}"
        for name, sub in subparsers.choices.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []


def test_architecture_choices_match_the_registry():
    from napari_latent.model import ARCHITECTURES

    assert set(ARCHITECTURE_CHOICES) == set(ARCHITECTURES)


def test_train_flat_config_unimodal_and_early_stop(demo_store, tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    # lr 1e-9: validation cannot improve, so patience 1 stops the run after epoch 2 of 40
    cfg.write_text(json.dumps({"epochs": 40, "patience": 1, "lr": 1e-9, "latent_dim": 8, "size": "tiny"}))
    out = tmp_path / "ckpt"
    argv = ["train", str(demo_store.path), str(out), "--config", str(cfg), "--architecture", "unimodal_vae"]
    assert main(argv) == 1
    assert "--modality" in capsys.readouterr().err

    assert main([*argv, "--modality", "ecg"]) == 0
    captured = capsys.readouterr()
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"]["latent_dim"] == 8 and saved["model"]["architecture"] == "unimodal_vae"
    assert saved["model"]["modalities"] == ["ecg"] and saved["model"]["ecg_channels"] == [8, 8]
    assert saved["training"]["config"]["epochs"] == 40 and saved["training"]["status"] == "early_stopped"
    assert "stopped early" in captured.out
    assert "2/2" in captured.err and "0/40" not in captured.err.split("\r")[-1]
    text = captured.out + captured.err
    assert "lr 0.0000" not in text and "lr 2e-07" in text

    assert main([*argv, "--modality", "ecg"]) == 1
    err = capsys.readouterr().err
    assert "--overwrite" in err and "--resume" in err and "overwrite=True" not in err


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"epoch": 1}, "'epoch'"),
        ({"model": {"epochs": 1}}, "'epochs' (a training key) under 'model'"),
        ({"train": {"latent_dim": 8}}, "'latent_dim' (a model key) under 'train'"),
        ({"size": "huge"}, "'huge'"),
    ],
)
def test_train_refuses_unknown_or_misplaced_keys_by_name(config, named, tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    # the store does not exist: the config is checked before anything is opened
    assert main(["train", str(tmp_path / "missing.zarr"), str(tmp_path / "ckpt"), "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert named in err and "missing.zarr" not in err
    assert not (tmp_path / "ckpt").exists()


def test_embed_refuses_existing_out_before_reading_anything(tmp_path, capsys):
    existing = tmp_path / "latents.npz"
    existing.write_bytes(b"keep me")
    assert main(["embed", str(tmp_path / "missing.zarr"), "--out", str(existing)]) == 1
    err = capsys.readouterr().err
    assert "latents.npz exists" in err and "--overwrite" in err
    assert existing.read_bytes() == b"keep me"
