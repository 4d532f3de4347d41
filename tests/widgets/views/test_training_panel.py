"""Training panel: trains a tiny model in a worker with live curves, loads it; cancels cleanly."""

from __future__ import annotations

import pytest

from napari_latent.model import ARCHITECTURES
from napari_latent.widgets.views.training_panel import TrainingPanel


@pytest.fixture
def panel(qtbot, explorer):
    w = TrainingPanel(explorer)
    qtbot.addWidget(w)
    return w


def _tiny(panel: TrainingPanel, out_dir, epochs: int) -> None:
    form = panel.form
    form.size.value = "tiny"
    form.latent_dim.value = 8
    form.epochs.value = epochs
    form.batch_size.value = 8
    form.out_dir.value = out_dir


def test_form_offers_every_architecture_and_builds_a_train_config(panel):
    panel.show()
    assert list(panel.form.architecture.choices) == list(ARCHITECTURES)
    assert not panel.form.modality.visible
    panel.form.architecture.value = "unimodal_vae"
    assert panel.form.modality.visible and not panel.form.contrastive_weight.enabled
    config = panel.config()
    assert config["model"]["architecture"] == "unimodal_vae" and config["model"]["modality"] == "mri"
    assert set(config["train"]) >= {"epochs", "batch_size", "lr", "val_fraction"}


def test_trains_loads_and_embeds_then_a_cancelled_run_leaves_nothing(panel, explorer, qtbot, tmp_path):
    old_model = explorer.model
    _tiny(panel, tmp_path / "run1", epochs=1)
    with qtbot.waitSignal(panel.training_finished, timeout=60000) as done:
        assert panel.start()
        assert panel.is_running and not panel.train_button.isEnabled()
    assert done.args == ["completed"]
    assert (tmp_path / "run1" / "config.json").is_file()
    assert explorer.model is not old_model and explorer.model.latent_dim == 8
    assert explorer.embeddings["fused"].shape == (len(explorer.cohort), 8)
    x, y = panel.plot.data("train loss")
    assert len(x) >= 1 and (y > 0).all()
    assert len(panel.plot.data("validation loss")[0]) == 1
    trained = explorer.model

    # a second run, cancelled at its first progress report
    steps = []
    panel.training_event.connect(lambda e: e["event"] == "step" and (steps.append(e), panel.cancel()))
    _tiny(panel, tmp_path / "run2", epochs=3)
    with qtbot.waitSignal(panel.training_finished, timeout=60000) as done:
        panel.start()
    assert done.args == ["cancelled"] and len(steps) >= 1
    assert not panel.is_running and panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1"]  # no checkpoint, no staging left
    assert explorer.model is trained


def test_an_existing_checkpoint_is_not_replaced_without_consent(panel, tmp_path, errors):
    other = tmp_path / "not-a-checkpoint"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    panel.form.out_dir.value = other
    assert not panel.start(overwrite=True)
    assert errors and (other / "notes.txt").read_text() == "mine"

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    panel.form.out_dir.value = ckpt
    assert not panel.start(overwrite=False)
    assert not panel.is_running and (ckpt / "config.json").read_text() == "{}"


@pytest.fixture
def errors(monkeypatch):
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_error", seen.append)
    return seen
